"""RAF-DB (Real-world Affective Faces, basic-emotion subset), Li, Deng & Du, CVPR 2017."""
import os.path as osp

from fertools.registry import DATASETS

from .expressions import RAFDB_CLASSES
from .reader_utils import FERReaderBase

__all__ = ['RAFDBDataset']


@DATASETS.register_module()
class RAFDBDataset(FERReaderBase):
    """RAF-DB *basic* (7 classes; 12,271 train / 3,068 test images).

    On-disk layout (as distributed; ``data_root`` is the ``basic`` folder)::

        basic/
          EmoLabel/list_patition_label.txt      # sic: "patition"; one line per image:
                                                #   train_00001.jpg 5
                                                #   test_0001.jpg 1
          Image/aligned/train_00001_aligned.jpg # 100x100 aligned faces (image_type='aligned')
          Image/aligned/test_0001_aligned.jpg
          Image/original/train_00001.jpg        # original photographs (image_type='original')

    Label coding in ``list_patition_label.txt``: ``1`` Surprise, ``2`` Fear, ``3`` Disgust, ``4`` Happiness,
    ``5`` Sadness, ``6`` Anger, ``7`` Neutral, so ``gt_label = code - 1`` in the default
    ``metainfo['classes'] = RAFDB_CLASSES``. The split is the file-name prefix (``train_`` / ``test_``).
    RAF-DB has no subject ids (``subject_id=''``); every image is ``modality='vis'``.

    Args:
        data_root (str): the ``basic`` folder.
        split (str): ``'train'``, ``'test'`` or ``'all'``.
        image_type (str): ``'aligned'`` (default) or ``'original'``.
        ann_file (str): label list relative to ``data_root``; default ``EmoLabel/list_patition_label.txt``.
        skip_corrupt, check_images: see :class:`~fertools.datasets.reader_utils.FERReaderBase`.
        **kwargs: ``pipeline``, ``metainfo``, ``test_mode`` and other ``BaseDataset`` arguments.
    """

    METAINFO = dict(classes=RAFDB_CLASSES)
    LAYOUT = ('basic/EmoLabel/list_patition_label.txt with lines "train_00001.jpg 5" (labels 1-7 = Surprise, '
              'Fear, Disgust, Happiness, Sadness, Anger, Neutral) and basic/Image/aligned/train_00001_aligned.jpg '
              '(or basic/Image/original/train_00001.jpg); data_root = the "basic" folder')
    SPLITS = ('train', 'test', 'all')

    def __init__(self, data_root: str, split: str = 'train', image_type: str = 'aligned',
                 ann_file: str = 'EmoLabel/list_patition_label.txt', **kwargs):
        if split not in self.SPLITS:
            raise ValueError(f'RAFDBDataset: split must be one of {self.SPLITS}, got {split!r}.')
        if image_type not in ('aligned', 'original'):
            raise ValueError(f"RAFDBDataset: image_type must be 'aligned' or 'original', got {image_type!r}.")
        self.split = split
        self.image_type = image_type
        super().__init__(data_root=data_root, ann_file=ann_file, **kwargs)

    def load_data_list(self):
        self.reset_counters()
        self.require_dir(self.data_root, 'data_root (the RAF-DB "basic" folder)')
        self.require_file(self.ann_file, 'label file')
        img_dir = self.require_dir(osp.join(self.data_root, 'Image', self.image_type),
                                   f'image folder (image_type={self.image_type!r})')
        data_list = []
        with open(self.ann_file, encoding='utf-8') as f:
            for line_no, line in enumerate(f, 1):
                line = line.strip()
                if not line:
                    continue
                where = f'{self.ann_file}:{line_no}'
                parts = line.split()
                if len(parts) != 2 or not parts[1].isdigit():
                    self.bad(where, f'line {line!r} is not "<name>.jpg <label 1-7>"')
                    continue
                name, code = parts[0], int(parts[1])
                prefix = name.split('_', 1)[0]
                if prefix not in ('train', 'test') or '_' not in name:
                    self.bad(where, f'image name {name!r} does not start with "train_" or "test_"')
                    continue
                if not 1 <= code <= len(RAFDB_CLASSES):
                    self.bad(where, f'label {code} is outside 1..7')
                    continue
                if self.split != 'all' and prefix != self.split:
                    continue
                label = self.label_index(RAFDB_CLASSES[code - 1])
                if label is None:
                    continue
                stem, ext = osp.splitext(name)
                file_name = f'{stem}_aligned{ext}' if self.image_type == 'aligned' else name
                img_path = osp.join(img_dir, file_name)
                if not self.image_ok(img_path):
                    continue
                data_list.append(dict(img_path=img_path, gt_label=label, subject_id='', modality='vis'))
        self.report()
        return data_list
