"""tools/misc/browse_dataset.py on a tiny SynthFace config: a grid of the expected size, landmarks drawn on the
inputs only, paired / neutral tiles beside them; and the tile helpers on hand-made samples."""
import os.path as osp

import mmcv
import numpy as np
import pytest
import torch

from fertools.structures import FERDataSample
from fertools.utils import run_main
from toy_plugin.helpers import load_tool

browse = load_tool('misc/browse_dataset')
TINY = osp.join(osp.dirname(osp.abspath(__file__)), 'tiny_browse_config.py')
SIZE, PAD = 32, 2  # the config's faces; image_rows_grid's padding


def _green(tile):
    return (tile == (0, 255, 0)).all(-1).sum()


def test_grid_of_inputs_pairs_and_neutral_faces(tmp_path, capsys):
    out = tmp_path / 'grid.png'
    assert run_main(browse.main, [TINY, '--n', '5', '--per-row', '3', '--out', str(out)]) == 0
    text = capsys.readouterr().out
    assert 'inputs (landmarks where given) | paired_img | neutral_img' in text
    assert text.count('row 0 position') == 3 and text.count('row 1 position') == 2
    grid = mmcv.imread(str(out), channel_order='rgb')
    # 2 rows x (3 samples x 3 tiles), each tile SIZE + PAD, plus the outer PAD
    assert grid.shape == (2 * (SIZE + PAD) + PAD, 9 * (SIZE + PAD) + PAD, 3)
    cell = SIZE + PAD
    tiles = [[grid[PAD + r * cell:PAD + r * cell + SIZE, PAD + c * cell:PAD + c * cell + SIZE] for c in range(9)]
             for r in range(2)]
    for r, c in [(0, 0), (0, 3), (0, 6), (1, 0), (1, 3)]:  # every input has its landmarks drawn ...
        assert _green(tiles[r][c]) > 30
        assert _green(tiles[r][c + 1]) == 0 and _green(tiles[r][c + 2]) == 0  # ... its NIR twin and neutral face not
        nir = tiles[r][c + 1].astype(int)
        assert (nir[..., 0] == nir[..., 1]).all() and (nir[..., 1] == nir[..., 2]).all() and nir.std() > 5  # grey face
    assert (tiles[1][6] == 255).all()  # the 6th strip is padding

    plain = tmp_path / 'plain.png'
    assert run_main(browse.main, [TINY, '--n', '4', '--out', str(plain), '--cfg-options',
                                  'train_dataloader.dataset.with_paired=False',
                                  'train_dataloader.dataset.with_neutral=False']) == 0
    assert 'each strip: inputs (landmarks where given)\n' in capsys.readouterr().out
    assert mmcv.imread(str(plain)).shape == (2 * cell + PAD, 2 * cell + PAD, 3)  # 4 samples: 2 x 2, one tile each


def test_missing_split_is_a_one_line_error(tmp_path, capsys):
    assert run_main(browse.main, [TINY, '--split', 'val', '--out', str(tmp_path / 'x.png')]) == 1
    assert 'has no val_dataloader.dataset; choose --split from: train.' in capsys.readouterr().err


def test_tiles_convert_bgr_grey_float_views_and_sizes():
    bgr = torch.zeros(3, 8, 8, dtype=torch.uint8)
    bgr[0] = 255  # blue in BGR
    assert torch.equal(browse.display_tile(bgr, 'inputs')[:, 0, 0], torch.tensor([0., 0., 1.]))
    standardised = torch.linspace(-2, 2, 64).reshape(1, 8, 8)  # e.g. after PerImageStandardize: stretched
    tile = browse.display_tile(standardised, 'inputs')
    assert tile.shape == (3, 8, 8) and tile.min() == 0 and tile.max() == 1
    views = torch.rand(10, 1, 8, 8)  # FiveCropFlip(mode='all'): the first view
    assert torch.equal(browse.display_tile(views, 'inputs'), views[0].expand(3, -1, -1))
    with pytest.raises(ValueError, match=r'inputs has shape \(2, 8, 8\)'):
        browse.display_tile(torch.rand(2, 8, 8), 'inputs')

    def packed(size, landmarks):
        sample = FERDataSample()
        if landmarks is not None:
            sample.set_landmarks(landmarks)
        return dict(inputs=torch.zeros(3, size, size, dtype=torch.uint8), data_samples=sample)

    # a 16-px sample beside an 8-px first sample is resized, and its landmark (12, 4) lands at (6, 2)
    samples = [packed(8, None), packed(16, np.array([[12.0, 4.0], [99.0, 0.0]]))]  # 2nd point off the image
    tiles = browse.sample_tiles(samples, browse.sample_columns(samples))
    assert tiles.shape == (2, 1, 3, 8, 8)
    green = (tiles[:, 0] == torch.tensor([0., 1., 0.])[:, None, None]).all(1)
    assert green[0].sum() == 0 and green[1].nonzero().tolist() == [[2, 6]]
