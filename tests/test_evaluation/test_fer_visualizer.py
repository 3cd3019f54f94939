import numpy as np

from fertools.registry import VISUALIZERS
from fertools.structures import FERDataSample
from fertools.visualization import plot_confusion_matrix


def test_plot_confusion_matrix_returns_rgb_and_saves(tmp_path):
    out = tmp_path / 'cm.png'
    img = plot_confusion_matrix(np.array([[5, 1], [2, 7]]), ['neutral', 'happiness'], out_file=str(out))
    assert img.dtype == np.uint8 and img.ndim == 3 and img.shape[2] == 3
    assert out.is_file() and out.stat().st_size > 1000
    # the matrix is drawn: not a blank canvas
    assert img.std() > 10


def test_fer_visualizer_draws_labels(tmp_path):
    vis = VISUALIZERS.build(dict(type='FERVisualizer', name='fer_vis_test', vis_backends=[dict(type='LocalVisBackend')],
                                 save_dir=str(tmp_path)))
    vis.dataset_meta = dict(classes=('neutral', 'happiness'))
    image = np.zeros((64, 64, 3), np.uint8)
    sample = FERDataSample().set_gt_label(1).set_pred_label(1).set_pred_score([0.1, 0.9])
    drawn = vis.add_datasample('face', image, sample)
    assert drawn.shape == image.shape and drawn.any()
    cm_img = vis.add_confusion_matrix('cm', np.eye(2) * 3, ('neutral', 'happiness'), step=1)
    assert cm_img.ndim == 3
    assert list((tmp_path / 'vis_data' / 'vis_image').glob('cm_1.png'))
