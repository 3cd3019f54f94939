"""68-point landmarks for images that lack them, by the ``face_alignment`` package (Bulat & Tzimiropoulos,
"How far are we from solving the 2D & 3D face alignment problem?", ICCV 2017: S3FD detector + 2D-FAN-4), the
detector/aligner NFER-SDE uses; with a disk cache so a dataset is annotated once.

Weights are never downloaded: ``face_alignment`` would fetch them on construction (and fail offline with a
``URLError``), so this wrapper checks the files first and raises naming them and where to put them.
"""
import hashlib
import logging
import os
import os.path as osp
from typing import Optional

import numpy as np
from mmcv.transforms import BaseTransform
from mmengine.logging import print_log

from fertools.registry import TRANSFORMS
from fertools.structures.landmarks68 import NUM_LANDMARKS
from fertools.utils.atomic_write import atomic_path

DETECTOR_FILE = 's3fd-619a316812.pth'
FAN_FILE = '2DFAN4-11f355bf06.pth.tar'


def default_checkpoint_dir() -> str:
    """``$TORCH_HOME/hub/checkpoints`` (``~/.cache/torch`` when ``TORCH_HOME`` is unset), where
    ``face_alignment`` looks for its files."""
    torch_home = os.environ.get('TORCH_HOME') or osp.join(
        os.environ.get('XDG_CACHE_HOME', osp.expanduser('~/.cache')), 'torch')
    return osp.join(torch_home, 'hub', 'checkpoints')


def _build_face_alignment(detector_path: str, fan_path: str, device: str):
    """Construct ``face_alignment.FaceAlignment`` from local files only, eager mode (no ``torch.compile``,
    which costs ~50 s on CPU). The FAN file is read from ``fan_path`` instead of the package's URL cache."""
    import face_alignment
    import torch

    class _LocalFaceAlignment(face_alignment.FaceAlignment):

        def _load_native(self, network_name, network_size, device, dtype):
            net = face_alignment.models.FAN(network_size)
            net.load_state_dict(torch.load(fan_path, map_location=device, weights_only=True))
            return net.to(device, dtype=dtype).eval()

    return _LocalFaceAlignment(face_alignment.LandmarksType.TWO_D, device=device, flip_input=False,
                               face_detector='sfd', face_detector_kwargs=dict(path_to_detector=detector_path),
                               compile=False)


@TRANSFORMS.register_module()
class FaceAlignmentLandmarks(BaseTransform):
    """Fill ``results['landmarks']`` (``np.float32[68, 2]``, pixel coordinates of ``img``) where missing.

    Place it right after :class:`LoadFERImage` (before any geometric transform): cached landmarks are in the
    pixels of the file as loaded. Samples that already have landmarks pass through. Predictions are cached in
    ``cache_dir`` as one ``.npy`` per image, named by the SHA-1 of ``(absolute img_path, mtime, size)`` — a
    changed file is re-annotated, and data-loader workers can write concurrently (atomic rename). In-memory
    images without ``img_path`` are not cached. The predictor is built lazily, on the first image that needs
    it, so a fully cached dataset needs no weights.

    Args:
        detector_path (str, optional): S3FD weights; default ``$TORCH_HOME/hub/checkpoints/s3fd-619a316812.pth``.
        fan_path (str, optional): 2D-FAN-4 weights; default ``$TORCH_HOME/hub/checkpoints/2DFAN4-11f355bf06.pth.tar``.
        device (str): ``'cpu'`` or ``'cuda'``.
        cache_dir (str, optional): landmark cache folder (created on demand); ``None`` disables caching.
        on_no_face (str): ``'raise'`` (default: a clear error naming the image) or ``'nan'`` (landmarks filled
            with NaN, so LandmarkAlign/heatmaps can detect and drop them; NaN results are cached too).
        overwrite (bool): predict even when results already hold landmarks.

    When several faces are found, the one with the largest box is kept (FER images show one subject).
    """

    def __init__(self, detector_path: Optional[str] = None, fan_path: Optional[str] = None, device: str = 'cpu',
                 cache_dir: Optional[str] = None, on_no_face: str = 'raise', overwrite: bool = False):
        if on_no_face not in ('raise', 'nan'):
            raise ValueError(f"FaceAlignmentLandmarks: on_no_face must be 'raise' or 'nan'; got {on_no_face!r}.")
        self.detector_path = detector_path
        self.fan_path = fan_path
        self.device = device
        self.cache_dir = cache_dir
        self.on_no_face = on_no_face
        self.overwrite = overwrite
        self._predictor = None

    # ---- weights -----------------------------------------------------------------------------------------
    def weight_paths(self):
        ckpt = default_checkpoint_dir()
        return (self.detector_path or osp.join(ckpt, DETECTOR_FILE), self.fan_path or osp.join(ckpt, FAN_FILE))

    def _build_predictor(self):
        det, fan = self.weight_paths()
        missing = [p for p in (det, fan) if not osp.isfile(p)]
        if missing:
            raise FileNotFoundError(
                f'FaceAlignmentLandmarks: face-alignment weights not found: {missing}. fertools never downloads '
                f'them. Place {DETECTOR_FILE!r} (S3FD detector) and {FAN_FILE!r} (2D-FAN-4) in '
                f'{default_checkpoint_dir()!r} (i.e. $TORCH_HOME/hub/checkpoints/), or pass detector_path= / '
                'fan_path= explicitly; or provide landmarks in the dataset annotations.')
        return _build_face_alignment(det, fan, self.device)

    @property
    def predictor(self):
        if self._predictor is None:
            self._predictor = self._build_predictor()
        return self._predictor

    # ---- cache -------------------------------------------------------------------------------------------
    def _cache_file(self, results: dict) -> Optional[str]:
        path = results.get('img_path')
        if self.cache_dir is None or not path or not osp.isfile(path):
            return None
        st = os.stat(path)
        key = f'{osp.abspath(path)}|{st.st_mtime_ns}|{st.st_size}'
        return osp.join(self.cache_dir, hashlib.sha1(key.encode()).hexdigest() + '.npy')

    def _write_cache(self, file: str, landmarks: np.ndarray) -> None:
        with atomic_path(file) as tmp, open(tmp, 'wb') as f:
            np.save(f, landmarks)

    # ---- prediction --------------------------------------------------------------------------------------
    def predict(self, img_bgr: np.ndarray, name: str) -> np.ndarray:
        """``[68, 2]`` float32 landmarks of the largest face in a BGR image (NaN / error when none)."""
        rgb = np.ascontiguousarray(img_bgr[..., ::-1]) if img_bgr.ndim == 3 else np.stack([img_bgr] * 3, -1)
        out = self.predictor.get_landmarks_from_image(rgb, return_bboxes=True)
        preds, _, boxes = out if isinstance(out, tuple) else (out, None, None)
        if not preds:
            if self.on_no_face == 'raise':
                raise RuntimeError(f'FaceAlignmentLandmarks: no face detected in {name}. Use on_no_face="nan" to '
                                   'keep the sample with NaN landmarks, or drop it from the annotations.')
            return np.full((NUM_LANDMARKS, 2), np.nan, np.float32)
        best = 0
        if boxes is not None and len(boxes) == len(preds) and len(preds) > 1:
            areas = [(b[2] - b[0]) * (b[3] - b[1]) for b in boxes]
            best = int(np.argmax(areas))
        lm = np.asarray(preds[best], np.float32)[:, :2]
        if lm.shape != (NUM_LANDMARKS, 2):
            raise RuntimeError(f'FaceAlignmentLandmarks: predictor returned {lm.shape} landmarks for {name}; '
                               'expected (68, 2).')
        return lm

    def transform(self, results: dict) -> dict:
        if results.get('landmarks') is not None and not self.overwrite:
            return results
        if results.get('img') is None:
            raise KeyError("FaceAlignmentLandmarks needs results['img']; put LoadFERImage before it.")
        file = self._cache_file(results)
        if file is not None and osp.isfile(file):
            results['landmarks'] = np.load(file).astype(np.float32)
            return results
        name = results.get('img_path') or f"in-memory image (sample_idx={results.get('sample_idx')})"
        lm = self.predict(results['img'], name)
        if file is not None:
            self._write_cache(file, lm)
        elif self.cache_dir is not None:
            print_log(f'FaceAlignmentLandmarks: {name} has no img_path on disk; landmarks not cached.',
                      logger='current', level=logging.DEBUG)
        results['landmarks'] = lm
        return results

    def __repr__(self):
        det, fan = self.weight_paths()
        return (f'{type(self).__name__}(detector_path={det!r}, fan_path={fan!r}, device={self.device!r}, '
                f'cache_dir={self.cache_dir!r}, on_no_face={self.on_no_face!r})')
