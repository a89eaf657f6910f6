"""Each command's Rich output, one module per command, imported only by that command (what
they share is in `render`)."""
