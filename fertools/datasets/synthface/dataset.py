"""``SynthFaceDataset``: the embedded default FER data, rendered by :class:`SynthFaceGenerator`.

Layout of the set: ``num_subjects`` identities; each is rendered once per class of ``metainfo['classes']``
and per variation (``samples_per_expression`` of them: intensity, pose, light, noise differ), plus its
frontal neutral reference. Subjects (never samples) are split into train / val / test by a hash of
``(seed, subject)`` with ``split_ratios`` — a subject-independent protocol.

Rendering happens once, at :meth:`full_init` (honours ``lazy_init``), in batches of ``render_batch``; the
images live in one uint8 array per modality (optionally a numpy memmap under ``cache_dir`` keyed by every
generation parameter, so a set is rendered once per machine and shared by dataloader workers).
:meth:`get_data_info` attaches the image of a row on access (``img`` BGR uint8 ``[H, W, 3]``; NIR grey
replicated to three channels), so the serialised data list stays small.

Defaults (60 subjects × 7 classes × 4 variations at 112×112, ≈ 1.2k train images) render in about a second
and train a ResNet-18 on a CPU in minutes.
"""
import hashlib
import json
import os
import os.path as osp
import shutil
import tempfile
from typing import List, Optional, Sequence

import numpy as np
import torch

from fertools.registry import DATASETS

from ..base import FERBaseDataset
from ..expressions import ALL_EXPRESSIONS, CONTEMPT, resolve_classes
from . import hashing
from .generator import GENERATOR_VERSION, SynthFaceGenerator, noisy_labels
from .presets import DIFFICULTIES

SPLITS = ('train', 'val', 'test', 'all')
LABELS = ('expression', 'identity')
MODALITIES = ('vis', 'nir')


def split_subjects(num_subjects: int, seed: int, split: str, ratios: Sequence[float]) -> List[int]:
    """Subject ids of one split of a subject-independent protocol (deterministic in ``seed``).

    Subjects are ordered by a hash of ``(seed, subject)``; the first ``ratios[0]`` share is train, the next
    ``ratios[1]`` val, the rest test. Every split with a positive ratio gets at least one subject.
    """
    if split not in SPLITS:
        raise ValueError(f'SynthFaceDataset: split must be one of {SPLITS}, got {split!r}.')
    ratios = [float(r) for r in ratios]
    if len(ratios) != 3 or min(ratios) < 0 or sum(ratios) <= 0:
        raise ValueError(f'SynthFaceDataset: split_ratios must be three non-negative numbers (train, val, test), '
                         f'got {ratios!r}.')
    ids = torch.arange(num_subjects)
    if split == 'all':
        return ids.tolist()
    order = torch.argsort(hashing.combine(seed, 0x5E1, ids))
    total = sum(ratios)
    counts = [int(round(num_subjects * r / total)) for r in ratios]
    for i, r in enumerate(ratios):
        if r > 0 and counts[i] == 0 and num_subjects >= sum(1 for x in ratios if x > 0):
            counts[i] = 1
    while sum(counts) > num_subjects:
        counts[int(np.argmax(counts))] -= 1
    counts[2] = num_subjects - counts[0] - counts[1]
    bounds = np.cumsum([0] + counts)
    k = ('train', 'val', 'test').index(split)
    return sorted(order[bounds[k]:bounds[k + 1]].tolist())


@DATASETS.register_module()
class SynthFaceDataset(FERBaseDataset):
    """Procedural FER set with paired VIS/NIR images, 68 landmarks and each subject's neutral face.

    Args:
        num_subjects (int): identities in the whole set (all splits). Default 60.
        samples_per_expression (int): variations per subject × class. Default 4.
        split (str): ``'train'``, ``'val'``, ``'test'`` or ``'all'`` (subject-independent).
        split_ratios (tuple): train / val / test shares of the subjects. Default ``(0.7, 0.15, 0.15)``.
        max_subjects (int, optional): keep only the first k subjects of the split (few-subject studies).
        subject_offset (int): skip the first ``subject_offset`` subjects of the split before ``max_subjects``, so
            ``(offset=0, max=8)`` and ``(offset=8, max=24)`` are disjoint subject sets of one split (NFER-SDE's
            D_HTR and D_VIS). Default 0.
        extra_subjects (int): append this many more people to the split: subjects ``num_subjects`` …
            ``num_subjects + extra_subjects - 1`` of the same ``seed``, outside every split of ``num_subjects``
            (a larger evaluation set whose train / val people stay the same; LRDif's SynthFace-UDC test). Default 0.
        seed (int): generation seed (identities, variations, split).
        image_size (int): output size (square). Default 112.
        difficulty (str | dict): ``'easy'``, ``'default'``, ``'hard'`` or overrides of ``'default'``.
        modality (str): ``'vis'`` or ``'nir'`` — which image goes to ``img``.
        with_paired (bool): add ``paired_img``, the same sample in the other modality.
        with_neutral (bool): add ``neutral_img``, the subject's frontal neutral face (same modality as img).
        label_noise (float): share of samples whose ``gt_label`` is flipped to another class (deterministic
            per sample; ``clean_label`` keeps the truth).
        include_contempt (bool): with no explicit ``metainfo['classes']``, render the 8 classes
            (``ALL_EXPRESSIONS``) instead of the 7 basic ones.
        label (str): what ``gt_label`` is. ``'expression'`` (default): the expression index in
            ``metainfo['classes']``. ``'identity'`` (training an identity network, e.g. IDFERM's Light-CNN):
            the index of the sample's subject among this split's subjects (:meth:`subjects`, after
            ``subject_offset`` / ``max_subjects``); ``metainfo['classes']`` then lists the subject ids
            (``'S0007'``, ...) in that order, the rendered expressions move to ``metainfo['expression_classes']``
            and ``label_noise`` must be 0. The same subject index means the same person only for the same
            ``seed`` (identities are hashed from ``(seed, subject)``).
        cache_dir (str, optional): render once into ``<cache_dir>/synthface-<key>/`` (numpy memmaps) and
            reuse; ``key`` hashes every generation parameter.
        render_batch (int): faces rendered per generator call. Default 256.
        device (str): where to render (``'cpu'`` or ``'cuda'``); arrays are stored on the host.
        **kwargs: ``FERBaseDataset`` / MMEngine ``BaseDataset`` arguments (``pipeline``, ``metainfo``,
            ``test_mode``, ``lazy_init``, ``serialize_data``, ...). ``metainfo=dict(classes='rafdb')``
            relabels: class ``i`` is the expression named ``classes[i]``.

    Data-list entries: ``img`` (on access), ``gt_label``, ``clean_label``, ``landmarks`` float32 [68, 2],
    ``subject_id`` (``'S0007'``), ``modality``, ``expression`` (name), ``intensity``, ``img_path``
    (a virtual ``synthface://...`` id), optional ``paired_img`` / ``neutral_img``.
    """

    LAYOUT = 'no files: SynthFace renders its images (see fertools/datasets/synthface/dataset.py)'

    def __init__(self, num_subjects: int = 60, samples_per_expression: int = 4, split: str = 'train',
                 split_ratios: Sequence[float] = (0.7, 0.15, 0.15), max_subjects: Optional[int] = None,
                 subject_offset: int = 0, extra_subjects: int = 0, seed: int = 0, image_size: int = 112, difficulty='default',
                 modality: str = 'vis', with_paired: bool = False, with_neutral: bool = False, label_noise: float = 0.0,
                 include_contempt: bool = False, label: str = 'expression', cache_dir: Optional[str] = None,
                 render_batch: int = 256, device: str = 'cpu', metainfo: Optional[dict] = None, **kwargs):
        if not isinstance(num_subjects, int) or num_subjects < 1:
            raise ValueError(f'SynthFaceDataset: num_subjects must be a positive int, got {num_subjects!r}.')
        if not isinstance(samples_per_expression, int) or samples_per_expression < 1:
            raise ValueError('SynthFaceDataset: samples_per_expression must be a positive int, got '
                             f'{samples_per_expression!r}.')
        if modality not in MODALITIES:
            raise ValueError(f'SynthFaceDataset: modality must be one of {MODALITIES}, got {modality!r}.')
        if not 0.0 <= float(label_noise) < 1.0:
            raise ValueError(f'SynthFaceDataset: label_noise must be in [0, 1), got {label_noise!r}.')
        if isinstance(difficulty, str) and difficulty not in DIFFICULTIES:
            raise KeyError(f'SynthFaceDataset: unknown difficulty {difficulty!r}; choose one of '
                           f'{sorted(DIFFICULTIES)} or pass a dict overriding keys of "default".')
        if split not in SPLITS:
            raise ValueError(f'SynthFaceDataset: split must be one of {SPLITS}, got {split!r}.')
        if not isinstance(subject_offset, int) or subject_offset < 0:
            raise ValueError(f'SynthFaceDataset: subject_offset must be an int >= 0, got {subject_offset!r}.')
        if label not in LABELS:
            raise ValueError(f'SynthFaceDataset: label must be one of {LABELS}, got {label!r}.')
        if label == 'identity' and label_noise:
            raise ValueError("SynthFaceDataset: label_noise flips expression labels; use label_noise=0 with "
                             "label='identity'.")
        explicit = metainfo is not None and 'classes' in metainfo
        if include_contempt:
            if not explicit:
                metainfo = dict(metainfo or {}, classes=ALL_EXPRESSIONS)
            elif CONTEMPT not in resolve_classes(metainfo['classes']):
                raise ValueError('SynthFaceDataset: include_contempt=True but metainfo classes '
                                 f'{resolve_classes(metainfo["classes"])} have no contempt; add it to the '
                                 'classes or drop include_contempt.')
        self.num_subjects, self.samples_per_expression = num_subjects, samples_per_expression
        self.split, self.split_ratios, self.max_subjects = split, tuple(split_ratios), max_subjects
        if not isinstance(extra_subjects, int) or extra_subjects < 0:
            raise ValueError(f'SynthFaceDataset: extra_subjects must be an int >= 0, got {extra_subjects!r}.')
        self.subject_offset, self.extra_subjects = subject_offset, extra_subjects
        self.seed, self.image_size, self.difficulty = int(seed), int(image_size), difficulty
        self.modality, self.with_paired, self.with_neutral = modality, with_paired, with_neutral
        self.label_noise, self.cache_dir, self.render_batch = float(label_noise), cache_dir, int(render_batch)
        self.device, self.label = device, label
        self.expression_classes = resolve_classes(metainfo['classes']) if metainfo and 'classes' in metainfo \
            else tuple(self.METAINFO['classes'])
        self._arrays = None
        super().__init__(metainfo=metainfo, **kwargs)
        if label == 'identity':
            self._metainfo.update(classes=tuple(f'S{s:04d}' for s in self.subjects()),
                                  expression_classes=self.expression_classes)

    # ------------------------------------------------------------------ building
    def subjects(self) -> List[int]:
        """Subject ids of this split (after ``subject_offset`` and ``max_subjects``), then the ``extra_subjects``."""
        ids = split_subjects(self.num_subjects, self.seed, self.split, self.split_ratios)[self.subject_offset:]
        ids = ids[:self.max_subjects] if self.max_subjects is not None else ids
        return list(ids) + list(range(self.num_subjects, self.num_subjects + self.extra_subjects))

    def load_data_list(self) -> List[dict]:
        classes = self.expression_classes
        expr_ids = [ALL_EXPRESSIONS.index(c) for c in classes]
        subjects = self.subjects()
        if not subjects:
            raise ValueError(f'SynthFaceDataset: split {self.split!r} has no subjects (num_subjects='
                             f'{self.num_subjects}, split_ratios={self.split_ratios}, subject_offset='
                             f'{self.subject_offset}); raise num_subjects or lower subject_offset.')
        S, E, V = len(subjects), len(expr_ids), self.samples_per_expression
        subj = torch.tensor(subjects).repeat_interleave(E * V)
        expr = torch.tensor(expr_ids).repeat_interleave(V).repeat(S)
        var = torch.arange(V).repeat(S * E)
        label = torch.arange(E).repeat_interleave(V).repeat(S)
        self._arrays = self._render_or_load(subjects, subj, expr, var)
        if self.label == 'identity':
            noisy = clean = torch.arange(S).repeat_interleave(E * V)   # subject index within the split
        else:
            noisy, clean = noisy_labels(label, self.seed, hashing.combine(subj, expr, var), self.label_noise, E), label
        lms = self._arrays['landmarks']
        intensity = self._arrays['intensity']
        data_list = []
        for row in range(len(subj)):
            s = int(subj[row])
            data_list.append(dict(
                row=row, neutral_row=row // (E * V), gt_label=int(noisy[row]), clean_label=int(clean[row]),
                landmarks=np.asarray(lms[row], dtype=np.float32), subject_id=f'S{s:04d}',
                modality=self.modality, expression=classes[int(label[row])],
                intensity=float(intensity[row]),
                img_path=f'synthface://seed{self.seed}/S{s:04d}/{classes[int(label[row])]}/{int(var[row])}'))
        return data_list

    def _generation_key(self, subjects) -> str:
        diff = DIFFICULTIES[self.difficulty] if isinstance(self.difficulty, str) else dict(
            DIFFICULTIES['default'], **self.difficulty)
        spec = dict(version=GENERATOR_VERSION, size=self.image_size, seed=self.seed, difficulty=diff,
                    subjects=list(subjects), classes=list(self.expression_classes),
                    variations=self.samples_per_expression)
        return hashlib.sha1(json.dumps(spec, sort_keys=True).encode()).hexdigest()[:16]

    def _render_or_load(self, subjects, subj, expr, var) -> dict:
        if self.cache_dir is not None:
            folder = osp.join(self.cache_dir, f'synthface-{self._generation_key(subjects)}')
            if osp.isfile(osp.join(folder, 'done')):
                return {k: np.load(osp.join(folder, f'{k}.npy'), mmap_mode='r') for k in self._KEYS}
        gen = SynthFaceGenerator(self.image_size, self.seed, self.difficulty, device=self.device)
        n, size = len(subj), self.image_size
        tmp = None
        if self.cache_dir is not None:
            os.makedirs(self.cache_dir, exist_ok=True)
            tmp = tempfile.mkdtemp(prefix='.synthface-', dir=self.cache_dir)
        shapes = dict(vis=(n, size, size, 3), nir=(n, size, size), landmarks=(n, 68, 2), intensity=(n, ),
                      neutral_vis=(len(subjects), size, size, 3), neutral_nir=(len(subjects), size, size))
        dtypes = dict(vis=np.uint8, nir=np.uint8, landmarks=np.float32, intensity=np.float32,
                      neutral_vis=np.uint8, neutral_nir=np.uint8)
        arrays = {}
        for k in self._KEYS:
            if tmp is None:
                arrays[k] = np.empty(shapes[k], dtypes[k])
            else:
                arrays[k] = np.lib.format.open_memmap(osp.join(tmp, f'{k}.npy'), 'w+', dtypes[k], shapes[k])
        b = self.render_batch
        for i in range(0, n, b):
            out = gen.render(subj[i:i + b], expr[i:i + b], var[i:i + b])
            arrays['vis'][i:i + b] = out['vis'][..., [2, 1, 0]].cpu().numpy()     # store BGR
            arrays['nir'][i:i + b] = out['nir'].cpu().numpy()
            arrays['landmarks'][i:i + b] = out['landmarks'].cpu().numpy()
            arrays['intensity'][i:i + b] = out['intensity'].cpu().numpy()
        sid = torch.tensor(subjects)
        for i in range(0, len(subjects), b):
            z = torch.zeros_like(sid[i:i + b])
            out = gen.render(sid[i:i + b], z, z, frontal_neutral=True)
            arrays['neutral_vis'][i:i + b] = out['vis'][..., [2, 1, 0]].cpu().numpy()
            arrays['neutral_nir'][i:i + b] = out['nir'].cpu().numpy()
        if tmp is not None:
            for a in arrays.values():
                a.flush()
            open(osp.join(tmp, 'done'), 'w').close()
            try:
                os.rename(tmp, folder)
            except OSError:  # another process finished first: use its copy
                shutil.rmtree(tmp, ignore_errors=True)
            return {k: np.load(osp.join(folder, f'{k}.npy'), mmap_mode='r') for k in self._KEYS}
        return arrays

    _KEYS = ('vis', 'nir', 'landmarks', 'intensity', 'neutral_vis', 'neutral_nir')

    # ------------------------------------------------------------------ access
    def _image(self, kind: str, row: int) -> np.ndarray:
        if kind == 'vis':
            return np.array(self._arrays['vis'][row])                     # BGR copy
        if kind == 'nir':
            return np.repeat(np.asarray(self._arrays['nir'][row])[..., None], 3, axis=-1)
        if kind == 'neutral_vis':
            return np.array(self._arrays['neutral_vis'][row])
        return np.repeat(np.asarray(self._arrays['neutral_nir'][row])[..., None], 3, axis=-1)

    def get_data_info(self, idx: int) -> dict:
        """The entry of ``idx`` with ``img`` (and ``paired_img`` / ``neutral_img``) attached."""
        info = super().get_data_info(idx)
        other = 'nir' if self.modality == 'vis' else 'vis'
        info['img'] = self._image(self.modality, info['row'])
        if self.with_paired:
            info['paired_img'] = self._image(other, info['row'])
        if self.with_neutral:
            info['neutral_img'] = self._image(f'neutral_{self.modality}', info['neutral_row'])
        info['ori_shape'] = info['img_shape'] = info['img'].shape[:2]
        return info

    def get_gt_labels(self) -> np.ndarray:
        """``np.ndarray[N]`` int64 labels (without touching images)."""
        return np.array([super(SynthFaceDataset, self).get_data_info(i)['gt_label'] for i in range(len(self))],
                        dtype=np.int64)

    def get_subject_ids(self) -> List[str]:
        return [super(SynthFaceDataset, self).get_data_info(i)['subject_id'] for i in range(len(self))]
