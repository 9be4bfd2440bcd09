"""Use cases that the CLI and the GUI both call: they wire store/ and monday/ together."""
