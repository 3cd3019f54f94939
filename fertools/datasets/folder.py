"""A generic ``root/<class>/<image>`` FER dataset (ImageFolder style)."""
import os
import os.path as osp
import re
from typing import Dict, Optional

from fertools.registry import DATASETS

from .expressions import SYNTHFACE_CLASSES, canonical_expression
from .reader_utils import FERReaderBase, list_images
from .splits import natural_key

__all__ = ['FERFolderDataset']


@DATASETS.register_module()
class FERFolderDataset(FERReaderBase):
    """Images sorted into one folder per expression::

        data_root/
          [<split>/]                 # optional: train/, test/, val/ ... (pass split='train'); split=None
                                     # reads data_root itself
            <class>/                 # an expression name in any common spelling: happy, Happiness, HA,
                                     # angry, Surprised, neutral, contempt ... (see expressions.ALIASES)
              <image>.jpg|png|...    # any name; hidden files and non-images are ignored

    ``gt_label`` = the folder's canonical expression's index in ``metainfo['classes']`` (default the
    SynthFace order: neutral, happiness, sadness, surprise, fear, disgust, anger). A folder naming an
    expression outside the classes is dropped and counted in the log; a folder that names no expression
    is a layout error. ``subject_id`` comes from ``subject_pattern`` (a regex with a ``subject`` group
    searched in the file stem, e.g. ``r'^(?P<subject>S\\d+)_'``), else ``''``.

    Class folders named by number (a repack of RAF-DB as ``train/1 ... train/7``, of FER2013 as ``0 ... 6``)
    need ``class_map``: folder name → expression, e.g. for RAF-DB's labels
    ``{'1': 'surprise', '2': 'fear', '3': 'disgust', '4': 'happiness', '5': 'sadness', '6': 'anger',
    '7': 'neutral'}``. With a ``class_map`` every class folder must be one of its keys (an unknown folder is
    an error naming it and the keys); its values may be any spelling :func:`canonical_expression` knows.
    ``metainfo=dict(classes='rafdb')`` keeps RAF-DB's label order as well.

    Args:
        data_root (str): the root above.
        split (str | None): sub-folder to read, or ``None``.
        subject_pattern (str | None): regex for the subject id in file stems; a file it does not match
            is a layout error.
        modality (str): ``'vis'`` or ``'nir'`` for every image.
        class_map (dict[str, str] | None): folder name → expression name; ``None`` = the folder name is the
            expression name.
    """

    METAINFO = dict(classes=SYNTHFACE_CLASSES)
    LAYOUT = ('data_root/[<split>/]<expression name, or a class_map key>/<image file>, e.g. '
              'data_root/train/happy/0001.jpg')

    def __init__(self, data_root: str, split: Optional[str] = None, subject_pattern: Optional[str] = None,
                 modality: str = 'vis', class_map: Optional[Dict[str, str]] = None, **kwargs):
        self.split, self.modality = split, modality
        self.class_map = None
        if class_map is not None:
            try:
                self.class_map = {str(k): canonical_expression(v) for k, v in class_map.items()}
            except KeyError as e:
                raise ValueError(f'FERFolderDataset: class_map {class_map} has a value that is no expression name: '
                                 f'{e.args[0]}') from None
        self.subject_pattern = re.compile(subject_pattern) if subject_pattern else None
        if self.subject_pattern is not None and 'subject' not in self.subject_pattern.groupindex:
            raise ValueError(f'FERFolderDataset: subject_pattern {subject_pattern!r} needs a "subject" group.')
        super().__init__(data_root=data_root, **kwargs)

    def load_data_list(self):
        self.reset_counters()
        root = self.require_dir(self.data_root, 'data_root')
        if self.split:
            root = self.require_dir(osp.join(root, self.split), f'split folder ({self.split!r})')
        data_list = []
        class_dirs = [d for d in sorted(os.listdir(root), key=natural_key)
                      if not d.startswith('.') and osp.isdir(osp.join(root, d))]
        if not class_dirs:
            raise FileNotFoundError(f'FERFolderDataset: {root!r} has no class folders. Expected layout: '
                                    f'{self.LAYOUT}.')
        for cls_dir in class_dirs:
            if self.class_map is not None:
                if cls_dir not in self.class_map:
                    self.bad(osp.join(root, cls_dir), f'class folder {cls_dir!r} is not a key of class_map '
                             f'{sorted(self.class_map, key=natural_key)}; add it to class_map or move the folder')
                    continue
                canonical = self.class_map[cls_dir]
            else:
                try:
                    canonical = canonical_expression(cls_dir)
                except KeyError as e:
                    self.bad(osp.join(root, cls_dir), f'{e.args[0]} (numbered class folders need class_map=)')
                    continue
            label = None
            for name in list_images(osp.join(root, cls_dir)):
                if label is None:
                    label = self.label_index(canonical)
                    if label is None:
                        break
                path = osp.join(root, cls_dir, name)
                subject = ''
                if self.subject_pattern is not None:
                    m = self.subject_pattern.search(osp.splitext(name)[0])
                    if m is None:
                        self.bad(path, f'file name does not match subject_pattern {self.subject_pattern.pattern!r}')
                        continue
                    subject = m.group('subject')
                if self.image_ok(path):
                    data_list.append(dict(img_path=path, gt_label=label, subject_id=subject,
                                          modality=self.modality))
        self.report()
        return data_list
