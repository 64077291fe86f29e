"""Development tool: the receiver's stack, built from template.yaml, in an emulator (never imported by src/)."""
