"""A FER dataset described by the user's own annotation file (text list or CSV)."""
import csv
import os.path as osp

from fertools.registry import DATASETS

from .expressions import SYNTHFACE_CLASSES, canonical_expression
from .reader_utils import DatasetLayoutError, FERReaderBase

__all__ = ['FERAnnotationDataset']

_PATH_COLS = ('img_path', 'path', 'image', 'file', 'filename', 'image_path')
_LABEL_COLS = ('label', 'gt_label', 'expression', 'emotion', 'class')
_SUBJECT_COLS = ('subject', 'subject_id', 'person', 'identity')


@DATASETS.register_module()
class FERAnnotationDataset(FERReaderBase):
    """Images listed in an annotation file, paths relative to ``data_root`` (+ ``data_prefix['img_path']``).

    Two formats (``ann_format='auto'`` picks CSV for a ``.csv`` file, else text)::

        # text: one sample per line, whitespace separated; '#' starts a comment; blank lines ignored
        # <relative/path> <label> [<subject>]
        train/0001.jpg 3 S01
        train/0002.jpg happy S01

        # CSV with a header row; columns (any case): a path column (img_path | path | image | file |
        # filename | image_path), a label column (label | gt_label | expression | emotion | class),
        # optional subject (subject | subject_id | person | identity), optional modality (vis | nir),
        # optional paired_img_path; paths may contain spaces here
        img_path,label,subject,modality
        train/0001.jpg,3,S01,vis

    A label is an integer index into ``metainfo['classes']`` minus ``label_base`` (``label_base=1`` for
    1-based files), or an expression name in any spelling ``expressions.ALIASES`` knows (then matched by
    name; a name outside the classes is dropped and counted). Out-of-range integers, unknown names, a missing
    column or a line with too few fields are errors naming the file and line.

    Args:
        ann_file (str): the annotation file, relative to ``data_root`` unless absolute.
        data_root (str): root the image paths are relative to.
        ann_format (str): ``'auto'``, ``'txt'`` or ``'csv'``.
        label_base (int): value of the first class in integer labels (0 or 1).
        modality (str): default modality when the file has no modality column.
    """

    METAINFO = dict(classes=SYNTHFACE_CLASSES)
    LAYOUT = ('an annotation file with lines "<relative/path> <label> [<subject>]" or a CSV with header '
              'img_path,label[,subject][,modality]; paths relative to data_root')

    def __init__(self, ann_file: str, data_root: str = '', ann_format: str = 'auto', label_base: int = 0,
                 modality: str = 'vis', **kwargs):
        if ann_format not in ('auto', 'txt', 'csv'):
            raise ValueError(f"FERAnnotationDataset: ann_format must be 'auto', 'txt' or 'csv', got {ann_format!r}.")
        self.ann_format, self.label_base, self.default_modality = ann_format, label_base, modality
        super().__init__(ann_file=ann_file, data_root=data_root, **kwargs)

    def _label(self, value: str, where: str):
        value = value.strip()
        if value.lstrip('-').isdigit():
            idx = int(value) - self.label_base
            if not 0 <= idx < len(self.classes):
                return self.bad(where, f'label {value} is outside {self.label_base}..'
                                f'{self.label_base + len(self.classes) - 1} for classes {self.classes}')
            return idx
        try:
            return self.label_index(canonical_expression(value))
        except KeyError:
            return self.bad(where, f'label {value!r} is neither an integer nor an expression name')

    def _sample(self, rel, label_value, subject, modality, paired, where):
        label = self._label(label_value, where)
        if label is None:
            return None
        prefix = self.data_prefix.get('img_path', '') or self.data_root
        path = rel if osp.isabs(rel) else osp.join(prefix, rel)
        if not self.image_ok(path):
            return None
        info = dict(img_path=path, gt_label=label, subject_id=subject or '', modality=modality or
                    self.default_modality)
        if paired:
            info['paired_img_path'] = paired if osp.isabs(paired) else osp.join(prefix, paired)
        return info

    def load_data_list(self):
        self.reset_counters()
        if self.data_root:
            self.require_dir(self.data_root, 'data_root')
        self.require_file(self.ann_file, 'annotation file')
        fmt = self.ann_format
        if fmt == 'auto':
            fmt = 'csv' if self.ann_file.lower().endswith('.csv') else 'txt'
        data_list = []
        with open(self.ann_file, newline='', encoding='utf-8') as f:
            if fmt == 'txt':
                for line_no, line in enumerate(f, 1):
                    line = line.split('#', 1)[0].strip()
                    if not line:
                        continue
                    parts = line.split()
                    where = f'{self.ann_file}:{line_no}'
                    if len(parts) not in (2, 3):
                        self.bad(where, f'line {line!r} has {len(parts)} fields, expected "<path> <label> '
                                 '[<subject>]"')
                        continue
                    info = self._sample(parts[0], parts[1], parts[2] if len(parts) == 3 else '', None, None, where)
                    if info is not None:
                        data_list.append(info)
            else:
                reader = csv.DictReader(f)
                cols = {h.strip().lower(): h for h in (reader.fieldnames or [])}
                pick = lambda names: next((cols[n] for n in names if n in cols), None)  # noqa: E731
                pcol, lcol, scol = pick(_PATH_COLS), pick(_LABEL_COLS), pick(_SUBJECT_COLS)
                mcol, qcol = pick(('modality', )), pick(('paired_img_path', ))
                if pcol is None or lcol is None:
                    raise DatasetLayoutError(
                        f'FERAnnotationDataset: {self.ann_file!r} has columns {reader.fieldnames}; it needs a '
                        f'path column ({"|".join(_PATH_COLS)}) and a label column ({"|".join(_LABEL_COLS)}). '
                        f'Expected layout: {self.LAYOUT}.')
                for line_no, row in enumerate(reader, 2):
                    where = f'{self.ann_file}:{line_no}'
                    if not (row.get(pcol) or '').strip() or row.get(lcol) is None:
                        self.bad(where, f'row {row} lacks a path or a label')
                        continue
                    modality = (row.get(mcol) or '').strip().lower() if mcol else ''
                    if modality and modality not in ('vis', 'nir'):
                        self.bad(where, f'modality {modality!r} is not vis or nir')
                        continue
                    info = self._sample(row[pcol].strip(), row[lcol], (row.get(scol) or '').strip() if scol else '',
                                        modality, (row.get(qcol) or '').strip() if qcol else '', where)
                    if info is not None:
                        data_list.append(info)
        self.report()
        return data_list
