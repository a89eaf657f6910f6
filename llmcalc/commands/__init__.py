"""One module per command, imported only when the app is built with that command (`cli._typer`):
a run loads and defines the one command it names."""
