"""Run the subscriber example without AWS: its resources in an emulator, and Lambda's SQS polling emulated."""
