"""A dataset whose images come from a folder of files written for it (translations, generated references),
with every label and annotation of the dataset the files were made from.

``tools/translate.py --src DATASET_CONFIG --out DIR`` writes each sample's translation under the sample's
relative name (:func:`relative_name`); ``FolderImagesDataset(dataset=<that dataset>, image_root=DIR)`` reads them
back as ``img`` with the source sample's ``gt_label``, ``subject_id``, landmarks ... So the translated faces of a
VIS set train a NIR classifier with the VIS set's labels, whichever reader made them (a real CFEE tree keeps its
own layout on translation and its reader works on DIR directly; SynthFace's rendered faces need this wrapper).
``key='neutral_img'`` instead points each sample's reference face at the files (IDFERM's generated neutral faces).
"""
import copy
import os.path as osp
from typing import List, Optional

import numpy as np

from mmengine.dataset import BaseDataset

from fertools.registry import DATASETS

IMAGE_EXTS = ('.jpg', '.jpeg', '.png', '.bmp', '.tif', '.tiff', '.webp', '.ppm', '.pgm')
KEYS = ('img', 'neutral_img', 'paired_img')


def relative_name(info: dict, data_root: Optional[str], index: int) -> str:
    """The name a file written for sample ``index`` gets under an output folder.

    A file path relative to the reader's ``data_root`` (a CFEE tree keeps its layout); a SynthFace virtual id
    ``synthface://seed0/S0007/happiness/2`` becomes ``seed0/S0007/happiness/2.png``; no path at all,
    ``<index:06d>.png``. Names without an image extension get ``.png``.
    """
    path = info.get('img_path') or f'{index:06d}.png'
    if '://' in path:
        path = path.split('://', 1)[1]
    elif data_root and (osp.isabs(path) or path.startswith(data_root)):
        path = osp.relpath(path, data_root)
    return path if osp.splitext(path)[1].lower() in IMAGE_EXTS else path + '.png'


@DATASETS.register_module()
class FolderImagesDataset(BaseDataset):
    """``dataset``'s samples with ``key`` read from ``image_root/<relative_name>``.

    Args:
        dataset (dict | BaseDataset): the dataset the files were written for (same config, same split); its
            metainfo is used, and its pipeline unless ``pipeline`` is given.
        image_root (str): the folder written by ``tools/translate.py`` / ``tools/generate_references.py``.
        key (str): which image the files replace: ``'img'`` (translations), ``'neutral_img'`` (references) or
            ``'paired_img'``.
        modality (str, optional): the ``modality`` the samples get (``'nir'`` for VIS→NIR translations).
        hint (str, optional): the command that writes the files, quoted by the missing-file error.
        pipeline (list, optional): the transforms applied instead of ``dataset``'s (e.g. a pipeline that does not
            re-align references already written in an aligned frame).
        lazy_init (bool): as MMEngine's ``BaseDataset``.

    Every file must exist when the data list is loaded: a missing one is an error naming it, ``image_root`` and
    ``hint``.
    """

    def __init__(self, dataset, image_root: str, key: str = 'img', modality: Optional[str] = None,
                 hint: Optional[str] = None, pipeline: Optional[list] = None, lazy_init: bool = False):
        if key not in KEYS:
            raise ValueError(f'FolderImagesDataset: key must be one of {KEYS}, got {key!r}.')
        self.source: BaseDataset = DATASETS.build(dataset) if isinstance(dataset, dict) else dataset
        self.image_root, self.key, self.modality, self.hint = image_root, key, modality, hint
        super().__init__(metainfo=copy.deepcopy(self.source.metainfo), pipeline=pipeline or [], lazy_init=lazy_init)
        if pipeline is None:
            self.pipeline = self.source.pipeline

    def load_data_list(self) -> List[dict]:
        self.source.full_init()
        root = getattr(self.source, 'data_root', None)
        data_list, missing = [], []
        for i in range(len(self.source)):
            info = self.source.get_data_info(i)
            path = osp.join(self.image_root, relative_name(info, root, i))
            missing += [] if osp.isfile(path) else [path]
            info.pop(self.key, None)  # an in-memory image (SynthFace) would shadow the file
            if self.key == 'img':
                info.pop('ori_shape', None)
                info.pop('img_shape', None)
            info.pop('sample_idx', None)
            info[f'{self.key}_path'] = path
            if self.modality is not None:
                info['modality'] = self.modality
            data_list.append(info)
        if missing:
            how = f' Write them with: {self.hint}' if self.hint else ''
            raise FileNotFoundError(f'FolderImagesDataset: {len(missing)} of {len(data_list)} files missing under '
                                    f'image_root={self.image_root!r}, e.g. {missing[0]!r}.{how}')
        return data_list

    def get_gt_labels(self) -> np.ndarray:
        return np.array([self.get_data_info(i)['gt_label'] for i in range(len(self))])

    def get_subject_ids(self) -> List[str]:
        return [self.get_data_info(i).get('subject_id', '') for i in range(len(self))]
