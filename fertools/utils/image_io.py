"""Writing an image file atomically, so an interrupted tool never leaves a half-written image that a resumed run
would take for finished (translations, generated references, decoded video frames)."""
import os
import os.path as osp

__all__ = ['write_image_atomic']


def write_image_atomic(path: str, image) -> None:
    """Write ``image`` (``uint8 [H, W]`` or BGR ``[H, W, 3]``) to ``path`` through a temporary file in the same
    folder (created if missing) and ``os.replace``."""
    import cv2
    os.makedirs(osp.dirname(path) or '.', exist_ok=True)
    root, ext = osp.splitext(path)
    tmp = f'{root}.tmp-{os.getpid()}{ext}'
    if not cv2.imwrite(tmp, image):
        raise OSError(f'cannot write image {tmp!r} (disk full or folder not writable?)')
    os.replace(tmp, path)
