"""Oulu-CASIA NIR&VIS facial expression database (Zhao, Huang, Taini, Li & Pietikäinen, IVC 2011)."""
import os
import os.path as osp

from fertools.registry import DATASETS

from .expressions import NEUTRAL, OULU_CASIA_CLASSES, canonical_expression
from .reader_utils import FERReaderBase, list_images, select_frames
from .splits import natural_key, split_subjects

__all__ = ['OuluCASIADataset']

_MODALITY = {'NI': 'nir', 'VL': 'vis'}
ILLUMINATIONS = ('Dark', 'Weak', 'Strong')


@DATASETS.register_module()
class OuluCASIADataset(FERReaderBase):
    """Oulu-CASIA NIR&VIS: 80 subjects x 6 expressions x 3 illuminations, NIR and VIS video sequences.

    On-disk layout (``data_root`` is the folder holding ``NI`` and ``VL``, e.g. ``OriginalImg``)::

        data_root/
          NI/                                   # near-infrared camera
            Dark/  Weak/  Strong/               # illumination
              P001/ ... P080/                   # subject
                Anger/ Disgust/ Fear/ Happiness/ Sadness/ Surprise/
                  000.jpeg 001.jpeg ... 0NN.jpeg   # one sequence, neutral (first) -> apex (last)
          VL/                                   # visible-light camera, same tree

    ``gt_label`` indexes ``OULU_CASIA_CLASSES`` = anger, disgust, fear, happiness, sadness, surprise (the
    folders' alphabetical order); with ``include_neutral=True`` the first frame of every sequence is added
    as ``neutral`` and the default classes become ``('neutral',) + OULU_CASIA_CLASSES``.
    The labelled frames are the ``last_k`` last ones (apex; the usual protocol takes 3). ``subject_id`` is
    the folder name (``'P001'``), ``modality`` is ``'nir'`` for NI and ``'vis'`` for VL, and each sample
    also carries ``illumination`` and ``frame`` (file stem).

    The illumination folder names: ``Strong`` is the name in the distributed ``OriginalImg`` tree;
    ``Weak`` and ``Dark`` are ASSUMED to follow the same pattern (not checked against a copy of the release);
    a copy named otherwise must be renamed or linked.

    ``paired=True`` adds ``paired_img_path``: the same illumination/subject/expression/frame file in the
    other modality (for VIS<->NIR translation). The two cameras' sequences may differ in length, so a frame
    can lack a partner: by default such frames are skipped and their number logged in one line
    (``self.unpaired``); ``strict_pairs=True`` raises naming the first one instead.

    ``with_neutral=True`` adds ``neutral_img_path``: the first frame (``000.jpeg``) of the sample's own
    sequence, i.e. the same subject, illumination and modality (VIS for ``'VL'``, NIR for ``'NI'``), which
    ``LoadFERImage`` loads as ``neutral_img`` (IDFERM's query / neutral-reference pairs). A neutral sample
    (``include_neutral=True``) is its own reference.

    Splits are person independent: ``fold`` of ``num_folds`` (default 10-fold, subjects in natural order,
    ``split_seed=None``) or an explicit ``test_subjects`` list; folds are computed over every subject found
    in the chosen modality and illuminations.

    Args:
        data_root (str): folder holding ``NI`` and ``VL``.
        split (str): ``'train'``, ``'test'`` or ``'all'``.
        modality (str): ``'VL'`` (visible, default) or ``'NI'`` (near-infrared).
        illuminations (Sequence[str]): any of ``'Dark'``, ``'Weak'``, ``'Strong'``; default ``('Strong',)``.
        last_k (int): labelled apex frames per sequence; ``frame_mode`` ``'last'`` (default), ``'middle'``
            or ``'all'`` (every frame labelled).
        include_neutral (bool): add each sequence's first frame as neutral.
        paired (bool): add the other modality's frame as ``paired_img_path``.
        strict_pairs (bool): with ``paired``, a frame without a partner is an error instead of being skipped.
        with_neutral (bool): add ``neutral_img_path`` = the sequence's first frame.
        fold, num_folds, split_seed, test_subjects: subject-disjoint split (see :mod:`.splits`).
    """

    METAINFO = dict(classes=OULU_CASIA_CLASSES)
    LAYOUT = ('data_root/{NI,VL}/{Dark,Weak,Strong}/P001/{Anger,Disgust,Fear,Happiness,Sadness,Surprise}/'
              '000.jpeg ... (frames neutral -> apex)')

    def __init__(self, data_root: str, split: str = 'train', modality: str = 'VL', illuminations=('Strong', ),
                 last_k: int = 3, frame_mode: str = 'last', include_neutral: bool = False, paired: bool = False,
                 strict_pairs: bool = False, with_neutral: bool = False, fold: int = 0, num_folds: int = 10,
                 split_seed=None, test_subjects=None, metainfo=None, **kwargs):
        if modality not in _MODALITY:
            raise ValueError(f"OuluCASIADataset: modality must be 'NI' or 'VL', got {modality!r}.")
        illuminations = (illuminations, ) if isinstance(illuminations, str) else tuple(illuminations)
        bad = [i for i in illuminations if i not in ILLUMINATIONS]
        if bad or not illuminations:
            raise ValueError(f'OuluCASIADataset: illuminations must be drawn from {ILLUMINATIONS}, got '
                             f'{illuminations}.')
        self.split, self.modality, self.illuminations = split, modality, illuminations
        self.last_k, self.frame_mode, self.include_neutral, self.paired = last_k, frame_mode, include_neutral, paired
        self.with_neutral, self.strict_pairs, self.unpaired = with_neutral, strict_pairs, []
        self.fold, self.num_folds, self.split_seed, self.test_subjects = fold, num_folds, split_seed, test_subjects
        default = ((NEUTRAL, ) + OULU_CASIA_CLASSES) if include_neutral else OULU_CASIA_CLASSES
        super().__init__(data_root=data_root, metainfo=self.with_default_classes(metainfo, default), **kwargs)

    def load_data_list(self):
        self.reset_counters()
        self.unpaired = []
        self.require_dir(self.data_root, 'data_root (folder holding NI and VL)')
        mod_root = self.require_dir(osp.join(self.data_root, self.modality), f'{self.modality} folder')
        other = 'VL' if self.modality == 'NI' else 'NI'
        if self.paired:
            self.require_dir(osp.join(self.data_root, other), f'{other} folder (paired=True)')
        sequences = []  # (illumination, subject, expression folder, canonical, [frames])
        for illum in self.illuminations:
            illum_dir = self.require_dir(osp.join(mod_root, illum), 'illumination folder')
            for subject in sorted(os.listdir(illum_dir), key=natural_key):
                subj_dir = osp.join(illum_dir, subject)
                if subject.startswith('.') or not osp.isdir(subj_dir):
                    continue
                for expr in sorted(os.listdir(subj_dir)):
                    seq_dir = osp.join(subj_dir, expr)
                    if expr.startswith('.') or not osp.isdir(seq_dir):
                        continue
                    try:
                        canonical = canonical_expression(expr)
                    except KeyError:
                        self.bad(seq_dir, f'expression folder {expr!r} is not one of Anger, Disgust, Fear, '
                                 'Happiness, Sadness, Surprise')
                        continue
                    frames = list_images(seq_dir)
                    if not frames:
                        self.bad(seq_dir, 'sequence folder holds no images')
                        continue
                    sequences.append((illum, subject, expr, canonical, frames))
        if not sequences:
            raise FileNotFoundError(f'OuluCASIADataset: no sequences under {mod_root!r} for illuminations '
                                    f'{self.illuminations}. Expected layout: {self.LAYOUT}.')
        keep = split_subjects([s[1] for s in sequences], self.split, self.fold, self.num_folds, self.split_seed,
                              self.test_subjects)
        data_list = []
        for illum, subject, expr, canonical, frames in sequences:
            if subject not in keep:
                continue
            neutral_frame = self.include_neutral and len(frames) > 1
            pool = frames[1:] if neutral_frame else frames  # the neutral frame is never also an apex
            chosen = [(f, canonical) for f in select_frames(pool, self.frame_mode, self.last_k)]
            if neutral_frame:
                chosen.insert(0, (frames[0], NEUTRAL))
            for frame, expression in chosen:
                label = self.label_index(expression)
                if label is None:
                    continue
                rel = osp.join(illum, subject, expr, frame)
                path = osp.join(mod_root, rel)
                if not self.image_ok(path):
                    continue
                info = dict(img_path=path, gt_label=label, subject_id=subject, modality=_MODALITY[self.modality],
                            illumination=illum, frame=osp.splitext(frame)[0])
                if self.with_neutral:
                    info['neutral_img_path'] = osp.join(mod_root, illum, subject, expr, frames[0])
                if self.paired:
                    partner = osp.join(self.data_root, other, rel)
                    if not osp.isfile(partner):
                        if self.strict_pairs:
                            raise FileNotFoundError(
                                f'OuluCASIADataset: {path} has no {other} partner {partner} (strict_pairs=True); '
                                'leave strict_pairs=False to skip unpaired frames.')
                        self.unpaired.append(path)
                        continue
                    info['paired_img_path'] = partner
                data_list.append(info)
        self.report({f'{self.modality} frames skipped, no {other} partner (paired=True)': len(self.unpaired)})
        return data_list
