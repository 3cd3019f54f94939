"""The score net through the tools: train (EMA, preview grid, test), then tools/translate.py: folders, datasets,
resume after a kill, bad sources, settings; and fertools.apis.translate."""
import glob
import json
import os
import os.path as osp

import mmcv
import numpy as np
import pytest

from fertools.utils import run_main
from toy_plugin.helpers import load_tool

TINY = osp.join(osp.dirname(osp.abspath(__file__)), 'tiny_score_config.py')


@pytest.fixture(scope='module')
def trained(tmp_path_factory):
    work = tmp_path_factory.mktemp('score')
    assert run_main(load_tool('train').main, [TINY, '--work-dir', str(work)]) == 0
    return work


def _faces(folder, n=5, size=20):
    rng = np.random.default_rng(0)
    for i in range(n):
        sub = osp.join(str(folder), 'happy' if i % 2 else 'sad')
        os.makedirs(sub, exist_ok=True)
        mmcv.imwrite(rng.integers(0, 256, (size, size, 3), dtype=np.uint8), osp.join(sub, f'{i:03d}.png'))
    return folder


def test_training_writes_ema_checkpoint_preview_and_test_metrics(trained):
    import torch
    ckpt = torch.load(osp.join(str(trained), 'iter_2.pth'), weights_only=True, map_location='cpu')
    assert any(k.startswith('unet.') for k in ckpt['state_dict'])
    assert 'ema_state_dict' in ckpt
    previews = glob.glob(osp.join(str(trained), '*', 'vis_data', 'vis_image', 'translation_*.png'))
    assert len(previews) == 2  # iterations 1 and 2 (the last one is the final weights)
    log = open(glob.glob(osp.join(str(trained), '*', '*.log'))[0]).read()
    assert 'Test after training: img/psnr' in log and 'img/psnr_source' in log


def test_translate_folder_keeps_names_and_resumes_after_a_kill(trained, tmp_path):
    src, out = _faces(tmp_path / 'src'), tmp_path / 'out'
    tool = load_tool('translate')
    argv = [TINY, osp.join(str(trained), 'iter_2.pth'), '--src', str(src), '--out', str(out), '--batch-size', '2']
    assert run_main(tool.main, argv) == 0
    names = sorted(osp.relpath(p, out) for p in glob.glob(osp.join(str(out), '*', '*.png')))
    assert names == sorted(osp.relpath(p, src) for p in glob.glob(osp.join(str(src), '*', '*.png')))
    first = {n: mmcv.imread(osp.join(str(out), n), flag='unchanged') for n in names}
    assert all(im.shape == (32, 32) for im in first.values())  # grey NIR at the model's size
    assert osp.isfile(osp.join(str(out), 'grid.png'))
    settings = json.load(open(osp.join(str(out), 'translate_settings.json')))
    assert settings['sampler']['type'] == 'GuidedSDESampler' and settings['seed'] == 0
    # a "killed" run: one image of the last batch missing; the rerun writes only it, bit-identical
    lost = names[-1]
    os.remove(osp.join(str(out), lost))
    kept = {n: os.stat(osp.join(str(out), n)).st_mtime_ns for n in names if n != lost}
    assert run_main(tool.main, argv) == 0
    assert {n: os.stat(osp.join(str(out), n)).st_mtime_ns for n in kept} == kept
    assert np.array_equal(mmcv.imread(osp.join(str(out), lost), flag='unchanged'), first[lost])
    # other settings into the same folder are refused
    assert run_main(tool.main, argv + ['--seed', '3']) != 0


def test_translate_dataset_config_and_sampler_options(trained, tmp_path):
    out = tmp_path / 'out'
    argv = [TINY, osp.join(str(trained), 'iter_2.pth'), '--src', TINY, '--split', 'test', '--out', str(out),
            '--limit', '3', '--sampler-options', 'type=DDIMSampler', 'steps=2']
    assert run_main(load_tool('translate').main, argv) == 0
    written = glob.glob(osp.join(str(out), '**', '*.png'), recursive=True)
    assert len([w for w in written if not w.endswith('grid.png')]) == 3
    assert all('/S00' in w for w in written if not w.endswith('grid.png'))  # seedN/Sxxxx/<class>/<k>.png
    assert json.load(open(osp.join(str(out), 'translate_settings.json')))['sampler'] == dict(type='DDIMSampler',
                                                                                              steps=2)


def test_bad_sources_are_named(trained, tmp_path, capsys):
    src = _faces(tmp_path / 'src', n=2)
    (src / 'notes.txt').write_text('not a face')
    ckpt = osp.join(str(trained), 'iter_2.pth')
    assert run_main(load_tool('translate').main, [TINY, ckpt, '--src', str(src), '--out', str(tmp_path / 'o')]) != 0
    assert "'notes.txt' is not an image" in capsys.readouterr().err
    os.remove(src / 'notes.txt')
    (src / 'happy' / 'broken.png').write_bytes(b'not a png')
    assert run_main(load_tool('translate').main, [TINY, ckpt, '--src', str(src), '--out', str(tmp_path / 'o2')]) != 0
    assert 'broken.png' in capsys.readouterr().err


def test_python_api_translate(trained, tmp_path):
    from fertools.apis import get_model, translate
    model = get_model(TINY, pretrained=osp.join(str(trained), 'iter_2.pth'))
    src = _faces(tmp_path / 'src', n=3)
    paths = sorted(glob.glob(osp.join(str(src), '*', '*.png')))
    out = translate(model, paths, batch_size=2)
    assert len(out) == 3 and out[0].shape == (32, 32) and out[0].dtype == np.uint8
    again = translate(model, paths[:2], batch_size=2)  # the same batch 0 with the same seed: the same result
    assert all(np.array_equal(a, b) for a, b in zip(again, out[:2]))
    with pytest.raises(TypeError, match='not a translation model'):
        translate(get_model('configs/baselines/resnet18_synthface.py'), paths[0])


def test_checkpoint_of_another_model_is_named(trained, tmp_path, capsys):
    import torch
    other = tmp_path / 'resnet.pth'
    torch.save(dict(state_dict={'backbone.conv1.weight': torch.zeros(8, 3, 3, 3)}), other)
    src = _faces(tmp_path / 'src', n=1)
    assert run_main(load_tool('translate').main, [TINY, str(other), '--src', str(src), '--out', str(tmp_path / 'o')]) != 0
    err = capsys.readouterr().err
    assert 'resnet.pth' in err and 'does not match' in err
