"""The fertools visualiser: predictions drawn on faces and confusion matrices, sent to every backend."""
from typing import Optional, Sequence

import numpy as np
from mmengine.dist import master_only
from mmengine.visualization import Visualizer

from fertools.registry import VISUALIZERS
from .confusion_matrix import plot_confusion_matrix


@VISUALIZERS.register_module()
class FERVisualizer(Visualizer):
    """MMEngine ``Visualizer`` with FER drawers.

    - :meth:`draw_confusion_matrix` → RGB image; :meth:`add_confusion_matrix` sends it to every backend
      (TensorBoard, local files, ...).
    - :meth:`draw_datasample` writes the ground-truth / predicted expression names (and top score) on a face
      (any rank); :meth:`add_datasample` also sends / shows / saves it (rank 0), so ``VisualizationHook``-style
      hooks work with :class:`~fertools.structures.FERDataSample`.

    Args: as MMEngine's ``Visualizer`` (``name``, ``image``, ``vis_backends``, ``save_dir``, ...).
    """

    @staticmethod
    def draw_confusion_matrix(confusion, classes: Optional[Sequence[str]] = None, normalize: bool = True,
                              title: str = 'Confusion matrix') -> np.ndarray:
        """``[C, C]`` counts → ``np.ndarray[H, W, 3]`` RGB uint8."""
        return plot_confusion_matrix(np.asarray(confusion), classes, normalize=normalize, title=title)

    @master_only
    def add_confusion_matrix(self, name: str, confusion, classes: Optional[Sequence[str]] = None,
                             step: int = 0, normalize: bool = True) -> np.ndarray:
        image = self.draw_confusion_matrix(confusion, classes, normalize, title=name)
        self.add_image(name, image, step)
        return image

    def _label_text(self, data_sample, classes) -> str:
        def name(idx):
            return classes[idx] if classes is not None and idx < len(classes) else str(idx)

        lines = []
        if 'gt_label' in data_sample:
            lines.append(f'GT: {name(int(data_sample.gt_label.reshape(-1)[0]))}')
        if 'pred_label' in data_sample:
            idx = int(data_sample.pred_label.reshape(-1)[0])
            score = f' ({float(data_sample.pred_score[idx]):.2f})' if 'pred_score' in data_sample else ''
            lines.append(f'Pred: {name(idx)}{score}')
        return '\n'.join(lines)

    def draw_datasample(self, image: np.ndarray, data_sample=None, draw_gt: bool = True, draw_pred: bool = True,
                        classes: Optional[Sequence[str]] = None) -> np.ndarray:
        """``image`` ``[H, W, 3]`` RGB uint8 with "GT: <class>" / "Pred: <class> (<score>)" written top left →
        the drawn ``[H, W, 3]`` RGB uint8. ``classes`` default ``dataset_meta['classes']`` (else indices)."""
        classes = classes or (self.dataset_meta or {}).get('classes')
        self.set_image(image)
        if data_sample is not None:
            sample = data_sample.clone()
            if not draw_gt and 'gt_label' in sample:
                del sample.gt_label
            if not draw_pred and 'pred_label' in sample:
                del sample.pred_label
            text = self._label_text(sample, classes)
            if text:
                h = image.shape[0]
                self.draw_texts(text, np.array([2, 2]), colors='white', font_sizes=max(6, h // 16),
                                bboxes=dict(facecolor='black', alpha=0.6, pad=1, edgecolor='none'))
        return self.get_image()

    @master_only
    def add_datasample(self, name: str, image: np.ndarray, data_sample=None, draw_gt: bool = True,
                       draw_pred: bool = True, show: bool = False, wait_time: float = 0,
                       out_file: Optional[str] = None, step: int = 0, classes: Optional[Sequence[str]] = None):
        """:meth:`draw_datasample`, then show it, save it to ``out_file`` or else ``add_image`` it."""
        drawn = self.draw_datasample(image, data_sample, draw_gt, draw_pred, classes)
        if show:
            self.show(drawn, win_name=name, wait_time=wait_time)
        if out_file is not None:
            import mmcv
            mmcv.imwrite(drawn[..., ::-1], out_file)
        else:
            self.add_image(name, drawn, step)
        return drawn
