"""File-system helpers: atomic outputs and image reading with clear errors."""

from antseg.io.atomic import atomic_dir, atomic_write_text
from antseg.io.images import image_size, read_image, read_mask_png, write_png

__all__ = ["atomic_dir", "atomic_write_text", "image_size", "read_image", "read_mask_png", "write_png"]
