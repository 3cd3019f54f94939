"""Writing an image file atomically, so an interrupted tool never leaves a half-written image that a resumed run
would take for finished (translations, generated references, decoded video frames)."""
from .atomic_write import atomic_path

__all__ = ['write_image_atomic']


def write_image_atomic(path: str, image) -> None:
    """Write ``image`` (``uint8 [H, W]`` or BGR ``[H, W, 3]``) to ``path`` through :func:`atomic_path` (the
    temporary file keeps the extension, which tells OpenCV the format)."""
    import cv2
    with atomic_path(path) as tmp:
        if not cv2.imwrite(tmp, image):
            raise OSError(f'cannot write image {tmp!r} (disk full or folder not writable?)')
