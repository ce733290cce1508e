"""tutor: worked solutions of backpropagation problems, exact to the last digit."""

__version__ = "0.1.0"
