"""``python -m hubkit.service``: the command JupyterHub runs for the managed service."""
from hubkit.service.server import serve

if __name__ == "__main__":
    serve()
