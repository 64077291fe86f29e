"""Development tool: the receiver's AWS resources, built from template.yaml, in an emulator.

Never imported by the function (src/): only by the tests and the local commands.
"""
