"""Large-HFE: a large paired NIR/VIS facial-expression set (360 subjects, 6 basic expressions)."""
import os
import os.path as osp

from fertools.registry import DATASETS

from .expressions import OULU_CASIA_CLASSES, canonical_expression
from .reader_utils import FERReaderBase, list_images
from .splits import natural_key, split_subjects

__all__ = ['LargeHFEDataset']


@DATASETS.register_module()
class LargeHFEDataset(FERReaderBase):
    """Large-HFE (as used by NFER-SDE: 360 subjects, paired NIR and VIS images, 6 basic expressions).

    Assumed layout: no public file naming of the set exists, so this tree is this reader's ASSUMPTION, not
    Large-HFE's documented form: a modality folder per camera, then subject, then expression (folder names
    configurable)::

        data_root/
          VIS/                                  # modality_dirs['vis']
            001/ ... 360/                       # subject
              Anger/ Disgust/ Fear/ Happiness/ Sadness/ Surprise/   # any spelling canonical_expression
                0001.jpg 0002.jpg ...           # knows (Angry, happy, ...)
          NIR/                                  # modality_dirs['nir'], same tree and file names

    ``gt_label`` indexes ``metainfo['classes']``, default the six basic expressions in alphabetical order
    (anger, disgust, fear, happiness, sadness, surprise: fertools' choice, the order of Oulu-CASIA's folders,
    not an order given by the paper); the label comes from the folder *name*; an expression folder outside the
    classes (e.g. ``Neutral``) is dropped and counted in the log; an unknown folder name is a layout error.
    ``subject_id`` = subject folder, ``modality`` = ``'vis'`` or ``'nir'``. ``paired=True`` adds the other
    modality's file with the same relative path as ``paired_img_path`` (missing → error).

    NFER-SDE's protocol: five random subject-independent 80/20 splits → ``num_folds=5`` and
    ``split_seed`` 0..4 (or ``fold`` 0..4 of one seed).

    Args:
        data_root (str): folder holding the modality folders.
        split (str): ``'train'``, ``'test'`` or ``'all'``.
        modality (str): ``'vis'`` or ``'nir'``.
        paired (bool): add the other modality's image as ``paired_img_path``.
        modality_dirs (dict): folder name per modality, default ``dict(vis='VIS', nir='NIR')``.
        fold, num_folds, split_seed, test_subjects: subject-disjoint split (see :mod:`.splits`).
    """

    METAINFO = dict(classes=OULU_CASIA_CLASSES)
    LAYOUT = ('data_root/{VIS,NIR}/<subject>/<Expression>/<image>.jpg with the same relative paths in both '
              'modality folders -- an assumed layout, see the class docstring')

    def __init__(self, data_root: str, split: str = 'train', modality: str = 'nir', paired: bool = False,
                 modality_dirs=None, fold: int = 0, num_folds: int = 5, split_seed=0, test_subjects=None,
                 **kwargs):
        self.modality_dirs = dict(vis='VIS', nir='NIR', **(modality_dirs or {}))
        if modality not in ('vis', 'nir'):
            raise ValueError(f"LargeHFEDataset: modality must be 'vis' or 'nir', got {modality!r}.")
        self.split, self.modality, self.paired = split, modality, paired
        self.fold, self.num_folds, self.split_seed, self.test_subjects = fold, num_folds, split_seed, test_subjects
        super().__init__(data_root=data_root, **kwargs)

    def load_data_list(self):
        self.reset_counters()
        self.require_dir(self.data_root, 'data_root')
        mod_root = self.require_dir(osp.join(self.data_root, self.modality_dirs[self.modality]),
                                    f'{self.modality} folder')
        other = 'vis' if self.modality == 'nir' else 'nir'
        other_root = osp.join(self.data_root, self.modality_dirs[other])
        if self.paired:
            self.require_dir(other_root, f'{other} folder (paired=True)')
        items = []
        for subject in sorted(os.listdir(mod_root), key=natural_key):
            sdir = osp.join(mod_root, subject)
            if subject.startswith('.') or not osp.isdir(sdir):
                continue
            for expr in sorted(os.listdir(sdir)):
                edir = osp.join(sdir, expr)
                if expr.startswith('.') or not osp.isdir(edir):
                    continue
                try:
                    canonical = canonical_expression(expr)
                except KeyError:
                    self.bad(edir, f'expression folder {expr!r} is not an expression name')
                    continue
                items.extend((osp.join(subject, expr, f), subject, canonical) for f in list_images(edir))
        if not items:
            raise FileNotFoundError(f'LargeHFEDataset: no images under {mod_root!r}. Expected layout: '
                                    f'{self.LAYOUT}.')
        keep = split_subjects([s for _, s, _ in items], self.split, self.fold, self.num_folds, self.split_seed,
                              self.test_subjects)
        data_list = []
        for rel, subject, canonical in items:
            if subject not in keep:
                continue
            label = self.label_index(canonical)
            path = osp.join(mod_root, rel)
            if label is None or not self.image_ok(path):
                continue
            info = dict(img_path=path, gt_label=label, subject_id=subject, modality=self.modality)
            if self.paired:
                partner = osp.join(other_root, rel)
                if not osp.isfile(partner):
                    self.bad(partner, f'paired {other} image for {path} is missing', FileNotFoundError)
                    continue
                info['paired_img_path'] = partner
            data_list.append(info)
        self.report()
        return data_list
