"""File-system helpers: atomic outputs and image reading with clear errors.

The names below load on first use, so the package's light modules (``antseg.io.quiet``) do not import OpenCV.
"""

from antseg.lazy_imports import lazy_attributes

__all__ = ["atomic_dir", "atomic_write_text", "image_size", "read_image", "read_mask_png", "write_png"]

__getattr__, __dir__ = lazy_attributes(
    __name__, {n: "antseg.io.atomic" if n.startswith("atomic") else "antseg.io.images" for n in __all__}
)
