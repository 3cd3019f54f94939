"""tools/analysis/nfer_sde_table.py end to end at a tiny size: networks once per seed, a translated row and the
NIR-only row, the table files, and resumption without rerunning finished steps."""
import json
import os.path as osp
import sys

import pytest

sys.path.insert(0, osp.join(osp.dirname(__file__), '..', '..', 'tools', 'analysis'))
import nfer_sde_table  # noqa: E402

TINY = ['--net-options', 'train_cfg.max_iters=2', 'default_hooks.logger.interval=1', 'custom_hooks=[]',
        '--fer-options', 'train_cfg.max_iters=2', 'train_cfg.val_interval=2', 'default_hooks.logger.interval=1',
        '--steps', '2', '--quality-subjects', '1', '--jobs', '2', '--threads', '1']


def test_table_runs_and_resumes(tmp_path, capsys):
    work = str(tmp_path / 'table')
    argv = ['--seeds', '0', '--rows', 'nir_only,cond', '--work-dir', work, *TINY]
    assert nfer_sde_table.main(argv) == 0
    out = capsys.readouterr().out
    assert 'Test after training: fer/accuracy' in out
    assert osp.isfile(osp.join(work, 'seed0', 'nets', 'score', 'done.json'))
    assert not osp.exists(osp.join(work, 'seed0', 'nets', 'landmark_net'))  # no row needs it
    table = json.load(open(osp.join(work, 'table.json')))
    cond = table['rows']['cond']['0']
    assert 0 <= cond['fer']['accuracy'] <= 100 and cond['quality']['psnr'] > 0
    assert osp.isfile(osp.join(work, 'seed0', 'cond', 'translations', 'grid.png'))
    translate_log = open(osp.join(work, 'seed0', 'cond', 'translate', 'stdout.txt')).read()
    assert 'translate: 336 images' in translate_log  # all of D_VIS
    md = open(osp.join(work, 'table.md')).read()
    assert '(a) NIR only' in md and '+Cond' in md
    # a second run finds every step done and repeats none of them
    stamp = osp.getmtime(osp.join(work, 'seed0', 'cond', 'fer', 'done.json'))
    assert nfer_sde_table.main(argv) == 0
    assert osp.getmtime(osp.join(work, 'seed0', 'cond', 'fer', 'done.json')) == stamp


def test_net_seed_shares_the_networks_by_every_seed():
    args = nfer_sde_table.parse_args(['--seeds', '1', '2', '--rows', 'cond,nir_only', '--net-seed', '0'])
    tasks = nfer_sde_table.plan(args)
    assert [k for k in tasks if k[0] == 'net'] == [('net', 'score', 0)]  # trained once, with seed 0
    assert tasks[('translate', 'cond', 1)][1] == tasks[('translate', 'cond', 2)][1] == (('net', 'score', 0), )
    default = nfer_sde_table.plan(nfer_sde_table.parse_args(['--seeds', '1', '2', '--rows', 'cond']))
    assert [k for k in default if k[0] == 'net'] == [('net', 'score', 1), ('net', 'score', 2)]


def test_the_classifier_waits_for_its_translation_only():
    tasks = nfer_sde_table.plan(nfer_sde_table.parse_args(['--seeds', '0', '--rows', 'nfer_sde,nir_only']))
    nets = (('net', 'score', 0), ('net', 'landmark_net', 0))
    assert tasks[('translate', 'nfer_sde', 0)][1] == tasks[('quality', 'nfer_sde', 0)][1] == nets
    assert tasks[('row', 'nfer_sde', 0)][1] == (('translate', 'nfer_sde', 0), )  # not the quality test
    assert tasks[('row', 'nir_only', 0)][1] == ()
    assert ('translate', 'nir_only', 0) not in tasks and ('quality', 'nir_only', 0) not in tasks
    skipped = nfer_sde_table.plan(nfer_sde_table.parse_args(['--seeds', '0', '--rows', 'cond', '--quality-subjects',
                                                             '0']))
    assert [k[0] for k in skipped] == ['net', 'translate', 'row']


def test_unknown_row_is_refused():
    with pytest.raises(SystemExit):
        nfer_sde_table.parse_args(['--rows', 'nfer_sde,cycle_gan'])


def test_quality_seeds_score_only_the_named_seeds(monkeypatch, tmp_path):
    steps = []
    monkeypatch.setattr(nfer_sde_table, 'run_step', lambda name, cmd, work_dir, threads, parse=None: steps.append(
        (name, cmd)) or {})
    monkeypatch.setattr(nfer_sde_table, 'checkpoint_of', lambda net_dir: f'{net_dir}/iter_1.pth')
    args = nfer_sde_table.parse_args(['--seeds', '0', '1', '--quality-seeds', '0', '--rows', 'cond', '--work-dir',
                                      str(tmp_path)])
    tasks = nfer_sde_table.plan(args)
    assert [k for k in tasks if k[0] == 'quality'] == [('quality', 'cond', 0)]
    for key in tasks:
        if key[0] != 'net':
            tasks[key][0](1)
    assert [name for name, _ in steps] == ['cond translation', 'cond quality', 'cond FER', 'cond translation',
                                           'cond FER']
    translate_1 = steps[3][1]
    assert translate_1[translate_1.index('--seed') + 1] == '1'
    assert f'{tmp_path}/seed0/nets/score/iter_1.pth' in steps[1][1]  # the quality test scores this seed's net
