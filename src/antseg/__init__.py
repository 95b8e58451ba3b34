"""antseg: a toolkit for imaging the anterior segment of the eye (AS-OCT and cataract surgery video)."""

__version__ = "0.1.0"
