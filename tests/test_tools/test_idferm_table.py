"""tools/analysis/idferm_table.py end to end at a tiny size: identity net and HNG trained once (reused when
present), generated references read back as the RML references, the table files."""
import json
import os
import os.path as osp
import sys

import pytest

sys.path.insert(0, osp.join(osp.dirname(__file__), '..', '..', 'tools', 'analysis'))
import idferm_table  # noqa: E402

TINY_RUN = ['train_cfg.max_iters=2', 'train_cfg.val_interval=2', 'default_hooks.logger.interval=1',
            'default_hooks.checkpoint.interval=2']
TINY = ['--identity-options', *TINY_RUN, '--hng-options', *TINY_RUN, '--row-options', *TINY_RUN,
        '--jobs', '1', '--threads', '1']


def test_idferm_runs_end_to_end_and_reuses_its_networks(tmp_path, capsys):
    dirs = ['--work-dir', str(tmp_path / 'table'), '--identity-dir', str(tmp_path / 'identity'),
            '--hng-dir', str(tmp_path / 'hng')]
    assert idferm_table.main(['--seeds', '0', '--rows', 'rml,softmax', *dirs, *TINY]) == 0
    out = capsys.readouterr().out
    assert out.count('Test after training: fer/accuracy') == 2
    references = tmp_path / 'hng' / 'references'
    assert sum(len(files) for _, _, files in os.walk(references)) > 1000  # one per training query (+ settings)
    table = json.load(open(tmp_path / 'table' / 'table.json'))
    assert 0 <= table['rows']['rml']['0']['accuracy'] <= 100
    assert 'generated references' in open(tmp_path / 'table' / 'table.md').read()
    # the networks exist now: a second table reuses them (no retraining)
    assert idferm_table.main(['--seeds', '1', '--rows', 'rml', *dirs, *TINY]) == 0
    assert 'identity: reused' in capsys.readouterr().out


def test_unknown_row_is_refused():
    with pytest.raises(SystemExit):
        idferm_table.parse_args(['--rows', 'rml,arcface'])
