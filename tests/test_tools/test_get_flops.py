"""tools/analysis/get_flops.py: parameters and FLOPs against known figures."""
import importlib.util
import os.path as osp

import pytest

from fertools.utils import run_main

ROOT = osp.join(osp.dirname(__file__), '..', '..')
spec = importlib.util.spec_from_file_location('get_flops', osp.join(ROOT, 'tools', 'analysis', 'get_flops.py'))
get_flops = importlib.util.module_from_spec(spec)
spec.loader.exec_module(get_flops)


def test_resnet18_matches_its_known_cost(capsys):
    """ResNet-18: 11.18 M parameters with a 7-class head; 3.64 GFLOPs (2 per MAC) at 224², scaling with the area."""
    assert run_main(get_flops.main, ['configs/baselines/resnet18_synthface.py', '--shape', '3', '224', '224']) == 0
    out = capsys.readouterr().out
    params = float(out.split('parameters: ')[1].split(' M')[0])
    flops = float(out.split('FLOPs: ')[1].split(' G')[0])
    assert params == pytest.approx(11.18, abs=0.01)
    assert flops == pytest.approx(3.64, rel=0.02)


def test_default_shape_comes_from_the_test_pipeline():
    from fertools.utils import load_config
    assert get_flops.default_shape(load_config('configs/baselines/resnet18_synthface.py')) == (3, 64, 64)


@pytest.mark.parametrize('config,shape', [
    ('configs/lrdif/lrdif_synthface-udc.py', (3, 64, 64)),   # not the 32² landmark heatmaps
    ('configs/idferm/rml_synthface.py', (1, 60, 60)),        # grey, centre crop
])
def test_lrdif_and_grey_models_are_counted(config, shape, capsys):
    from fertools.utils import load_config
    assert get_flops.default_shape(load_config(config)) == shape
    assert run_main(get_flops.main, [config]) == 0  # LRDif: its label-free stage-2 path
    assert 'FLOPs: ' in capsys.readouterr().out
