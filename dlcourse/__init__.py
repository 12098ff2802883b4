"""dlcourse: deep-learning fundamentals implemented in NumPy.

Importing the package loads only NumPy. Modules that need PyTorch, SymPy,
matplotlib or ipywidgets import them inside themselves, so that a learner who
installed just ``pip install dlcourse`` can use every NumPy part.

Import submodules explicitly, for example ``from dlcourse import activations``.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
