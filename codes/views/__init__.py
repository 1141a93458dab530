"""Pages of the codes app, one module per domain; urls.py imports the modules directly."""
