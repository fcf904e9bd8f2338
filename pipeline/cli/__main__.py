"""``python -m pipeline.cli``: the same as the ``dyad`` script."""

from pipeline.cli import app

if __name__ == "__main__":
    app()
