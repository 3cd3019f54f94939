"""The model-zoo tables of configs/<family>/README.md: every public config of the family has a row, every config a
row names exists, and every number in the measured-accuracy and training-time columns is one the cited pages
(README.md, docs/*.md) report — the tables copy figures, they never make them up."""
import glob
import os.path as osp
import re

import pytest

from toy_plugin.helpers import REPO_ROOT

FAMILIES = ('baselines', 'lrdif', 'nfer_sde', 'idferm')
HEADER = re.compile(r'^\| config \| data[^|]*\| measured accuracy[^|]*\| training time[^|]*\| command \|$')
NUMBER = re.compile(r'\d+(?:[.,]\d+)*')


def _tables(family):
    """``[[config, data, accuracy, time, command], ...]`` rows of every model-zoo table of the family's README."""
    rows, in_table = [], False
    with open(osp.join(REPO_ROOT, 'configs', family, 'README.md')) as f:
        for line in f:
            line = line.rstrip('\n')
            if HEADER.match(line):
                in_table = True
            elif in_table and line.startswith('|') and not line.startswith('|---'):
                cells = [c.strip() for c in line.strip('|').split(' | ')]
                assert len(cells) == 5, f'{family}/README.md: a row needs 5 cells: {line}'
                rows.append(cells)
            elif not line.startswith('|'):
                in_table = False
    return rows


def _sources():
    text = open(osp.join(REPO_ROOT, 'README.md')).read()
    return text + ''.join(open(p).read() for p in sorted(glob.glob(osp.join(REPO_ROOT, 'docs', '*.md'))))


@pytest.mark.parametrize('family', FAMILIES)
def test_every_public_config_has_a_row_and_every_row_names_real_configs(family):
    rows = _tables(family)
    assert rows, f'configs/{family}/README.md has no model-zoo table'
    named = {name for row in rows for name in re.findall(r'`([\w./-]+\.py)`', row[0])}
    root = osp.join(REPO_ROOT, 'configs', family)
    public = {osp.relpath(p, root) for p in glob.glob(osp.join(root, '**', '*.py'), recursive=True)
              if not osp.basename(p).startswith('_')}
    assert sorted(named - public) == [], 'rows name configs that do not exist'
    assert sorted(public - named) == [], f'configs without a row in configs/{family}/README.md'


@pytest.mark.parametrize('family', FAMILIES)
def test_measured_figures_come_from_the_docs(family):
    sources = _sources()
    for config, _, accuracy, time, _ in _tables(family):
        for cell in (accuracy, time):
            if cell.startswith(('not measured', 'no training')):  # no figure before the first note
                assert not re.search(r'\d', re.split(r'[(;]', cell)[0]), f'{config}: {cell}'
            for number in NUMBER.findall(re.sub(r'\[[^]]*\]\([^)]*\)|`[^`]*`', '', cell)):  # links, code left out
                assert number in sources, f'configs/{family}/README.md, {config}: {number} is in no doc ({cell})'
