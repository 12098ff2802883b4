"""Offline, seeded data for the course: logic gates, toy 2-D sets, handwritten digits, helpers,
shifted copies of images (augmentation).

``dlcourse.data`` is a package so that the vendored ``digits.csv.gz`` (and its
licence, ``LICENSE_digits.txt``) can live beside the code that reads it.
"""

from ._digits import digits
from .augment import random_shifts, shift_images
from .preprocessing import Standardizer, minibatches, one_hot, standardize, train_test_split
from .synthetic import GATES, blobs, circles, logic_gate, make_classification, moons, spirals

__all__ = [
    "logic_gate", "moons", "circles", "spirals", "blobs", "make_classification", "digits",
    "train_test_split", "one_hot", "standardize", "Standardizer", "minibatches", "GATES",
    "shift_images", "random_shifts",
]
