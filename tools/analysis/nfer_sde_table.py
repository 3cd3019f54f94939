"""The NFER-SDE augmentation experiment on SynthFace: does adding translated VIS faces to a small NIR training set
raise NIR test accuracy? One command per table (the paper's Evaluation 1 with an oracle row).

    python tools/analysis/nfer_sde_table.py --seeds 0 1 2 [--rows ...] [--jobs 2 --threads 1]
    python tools/analysis/nfer_sde_table.py --rows nfer_sde --seeds 0 --jobs 2 --quality-subjects 0  # one command

Protocol (``configs/nfer_sde/augment_synthface/_protocol.py``): D_HTR = 8 paired VIS/NIR subjects, the only NIR
any model trains on; D_VIS = 24 other subjects, VIS only, translated by the row's translator and added, as NIR
with their own labels, to D_HTR's NIR to train the same ResNet-18 (``fer_nir*.py``); tested on the real NIR of 9
held-out subjects. Rows (``--rows``, default all):

    nir_only  (a) D_HTR's NIR only ("without translation")     grey_vis  (b) + D_VIS untranslated, grey
    sdedit    (c) SDEdit       ilvr (d) ILVR      egsde (e) EGSDE      sr3 (f) SR3      pix2pix (g) pix2pix
    uncond / cond / cond_eh / cond_ef / nfer_sde   (h) the NFER-SDE ablation: unconditional score net, +Cond,
              Cond + E_h, Cond + E_f, Cond + E_h + E_f (the validated weights of nfer_sde_synthface.py)
    oracle    (i) + the REAL NIR of the D_VIS subjects (the upper bound no paper reports)

Per seed (or once, with ``--net-seed N``: shared by every seed) the tool trains the networks its rows need, on D_HTR only (``augment_synthface/*_htr.py``: the
conditional and unconditional score nets, the landmark net, the domain classifier, pix2pix); then per row it
translates D_VIS (``tools/translate.py``, ``--seed`` = the seed) and trains + tests the classifier
(``tools/train.py``, ``randomness.seed`` = the seed); beside them, as its own step, it scores the translations of
the first ``--quality-subjects`` test subjects against their real NIR (``tools/test.py``: PSNR / SSIM; 0 skips it,
as the one-command run does). Diffusion rows sample with ``--steps``
respaced steps (each sampler keeps its own t0: 0.5 → steps/2 network evaluations). Every step is a separate
process writing a ``done.json``; a step whose file exists is not repeated, so an interrupted table resumes.
Steps run ``--jobs`` at a time as soon as the networks they need exist, each with ``--threads`` torch threads
(default: the cores shared by the steps running side by side, so the one-command run's last row gets every core).

Outputs in ``--work-dir`` (default ``work_dirs/nfer_sde_table``): ``table.md`` / ``table.csv`` (mean ± std over
the seeds), ``table.json`` (every figure), and per seed and row ``translations/`` (with ``grid.png``: source |
translation | real NIR of the first batch).
"""
import argparse
import csv
import json
import os
import os.path as osp
import re
import sys
import time
from typing import Optional

sys.path.insert(0, osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))

from fertools.utils.jobs import (checkpoint_of, mean_std, read_test_metrics, run_step, run_tasks,  # noqa: E402
                                 tool_command)

PROTOCOL = 'configs/nfer_sde/augment_synthface'
SOURCE = f'{PROTOCOL}/d_vis.py'

#: network name → its training config (trained on D_HTR only).
NETS = {
    'score': f'{PROTOCOL}/score_htr.py',
    'score_uncond': f'{PROTOCOL}/score_uncond_htr.py',
    'landmark_net': f'{PROTOCOL}/landmark_net_htr.py',
    'domain_classifier': f'{PROTOCOL}/domain_classifier_htr.py',
    'pix2pix': f'{PROTOCOL}/pix2pix_htr.py',
}
#: the options pointing a translation config's energies at this seed's networks (``{net}``: its work dir).
LANDMARK = 'model.energy.energies.0.checkpoint={landmark_net}'
DOMAIN = 'model.energy.energies.0.checkpoint={domain_classifier}'

#: row → (label, FER config, translation config or None, its score/GAN network, other networks, options).
ROWS = {
    'nir_only': ('(a) NIR only (without translation)', 'fer_nir.py', None, None, (), ()),
    'grey_vis': ('(b) + D_VIS untranslated (grey)', 'fer_nir_grey_vis.py', None, None, (), ()),
    'sdedit': ('(c) SDEdit', 'fer_nir_translated.py', 'configs/nfer_sde/sdedit_synthface.py', 'score_uncond', (),
               ()),
    'ilvr': ('(d) ILVR', 'fer_nir_translated.py', 'configs/nfer_sde/ilvr_synthface.py', 'score_uncond', (), ()),
    'egsde': ('(e) EGSDE', 'fer_nir_translated.py', 'configs/nfer_sde/egsde_synthface.py', 'score_uncond',
              ('domain_classifier', ), (DOMAIN, )),
    'sr3': ('(f) SR3', 'fer_nir_translated.py', 'configs/nfer_sde/sr3_synthface.py', 'score', (), ()),
    'pix2pix': ('(g) pix2pix', 'fer_nir_translated.py', 'configs/nfer_sde/pix2pix_synthface.py', 'pix2pix', (),
                ()),
    'uncond': ('(h) NFER-SDE: unconditional', 'fer_nir_translated.py', 'configs/nfer_sde/score_uncond_synthface.py',
               'score_uncond', (), ()),
    'cond': ('(h) NFER-SDE: +Cond', 'fer_nir_translated.py', 'configs/nfer_sde/score_synthface.py', 'score', (), ()),
    'cond_eh': ('(h) NFER-SDE: Cond + E_h', 'fer_nir_translated.py', 'configs/nfer_sde/nfer_sde_synthface.py', 'score',
                ('landmark_net', ), (LANDMARK, 'model.energy.weights=[1.0,0.0]')),
    'cond_ef': ('(h) NFER-SDE: Cond + E_f', 'fer_nir_translated.py', 'configs/nfer_sde/nfer_sde_synthface.py', 'score',
                ('landmark_net', ), (LANDMARK, 'model.energy.weights=[0.0,0.5]')),
    'nfer_sde': ('(h) NFER-SDE: Cond + E_h + E_f', 'fer_nir_translated.py', 'configs/nfer_sde/nfer_sde_synthface.py',
                 'score', ('landmark_net', ), (LANDMARK, )),
    'oracle': ('(i) oracle: + real NIR of D_VIS', 'fer_nir_oracle.py', None, None, (), ()),
}
QUALITY_LINE = re.compile(r'img/psnr: (-?[0-9.]+)\s+img/ssim: (-?[0-9.]+)')
TEST_AFTER_TRAIN = re.compile(r'Test after training: .*')


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
    p.add_argument('--rows', default=','.join(ROWS), help=f'comma-separated subset of {list(ROWS)}')
    p.add_argument('--jobs', type=int, default=1, help='processes at a time')
    p.add_argument('--threads', type=int, default=None,
                   help='torch threads per process (default: the cores shared by the steps running side by side)')
    p.add_argument('--steps', type=int, default=40, help='respaced sampler steps of the diffusion rows')
    p.add_argument('--quality-subjects', type=int, default=3,
                   help='test subjects whose translations are scored (PSNR/SSIM; 0: skip)')
    p.add_argument('--quality-seeds', type=int, nargs='+', default=None,
                   help='score the translations of these seeds only (default: every seed); the image-quality '
                        'columns then average over them')
    p.add_argument('--work-dir', default='work_dirs/nfer_sde_table')
    p.add_argument('--fer-options', nargs='*', default=[], help='extra --cfg-options of every FER run')
    p.add_argument('--net-options', nargs='*', default=[], help='extra --cfg-options of every network training')
    p.add_argument('--net-seed', type=int, default=None,
                   help='train the networks once, with this seed, and share them by every seed (the seeds then '
                        'vary the translation noise and the classifier); default: each seed trains its own')
    args = p.parse_args(argv)
    unknown = [r for r in args.rows.split(',') if r not in ROWS]
    if unknown:
        p.error(f'unknown rows {unknown}; choose from {list(ROWS)}')
    return args


def parse_quality(text: str, _):
    hits = QUALITY_LINE.findall(text)
    return dict(psnr=float(hits[-1][0]), ssim=float(hits[-1][1])) if hits else {}


def parse_fer(text: str, work_dir: str):
    metrics = read_test_metrics(work_dir)
    lines = TEST_AFTER_TRAIN.findall(text)
    out = dict(test_line=lines[-1]) if lines else {}
    return dict(out, accuracy=metrics[0], macro_f1=metrics[1]) if metrics else out


# ------------------------------------------------------------------------------------------------ the plan
def plan(args):
    """``{key: (function(threads), dependencies)}``: the networks of every seed, then per (row, seed) the
    translation of D_VIS (``'translate'``), the image-quality test (``'quality'``) and the classifier (``'row'``).

    The classifier waits for its translation only; the quality test needs the networks alone, so it runs beside the
    translation (or the classifier) instead of lengthening the row's chain.
    """
    rows, work = args.rows.split(','), osp.abspath(args.work_dir)
    tasks = {}

    def net_seed(seed):
        return seed if args.net_seed is None else args.net_seed

    def net_dir(seed, net):
        return osp.join(work, f'seed{net_seed(seed)}', 'nets', net)

    needed = [n for r in rows for n in ([ROWS[r][3]] if ROWS[r][3] else []) + list(ROWS[r][4])]
    for seed in dict.fromkeys(net_seed(s) for s in args.seeds):
        for net in dict.fromkeys(needed):  # in the order the rows need them
            cmd = [*tool_command('train.py'), NETS[net], '--work-dir', net_dir(seed, net), '--cfg-options',
                   f'randomness.seed={seed}', *args.net_options]
            tasks[('net', net, seed)] = (lambda threads, c=cmd, d=net_dir(seed, net), n=net: run_step(n, c, d, threads),
                                         ())
    for seed in args.seeds:
        for row in rows:
            label, fer, translator, model_net, extra_nets, options = ROWS[row]
            nets = tuple(('net', n, net_seed(seed)) for n in ([model_net] if model_net else []) + list(extra_nets))
            fer_deps = ()
            if translator is not None:
                step = TranslationSteps(args, row, seed, lambda n, s=seed: net_dir(s, n))
                tasks[('translate', row, seed)] = (step.translate, nets)
                if args.quality_subjects > 0 and (args.quality_seeds is None or seed in args.quality_seeds):
                    tasks[('quality', row, seed)] = (step.quality, nets)
                fer_deps = (('translate', row, seed), )
            tasks[('row', row, seed)] = (lambda threads, r=row, s=seed: fer_job(args, r, s, threads), fer_deps)
    return tasks


def row_dir(args, row: str, seed: int) -> str:
    return osp.join(osp.abspath(args.work_dir), f'seed{seed}', row)


class TranslationSteps:
    """The two steps of a translated row that need its networks: translating D_VIS (into
    ``<row>/translations``, ``--seed`` = the seed) and scoring the translations of the first ``--quality-subjects``
    test subjects against their real NIR (``tools/test.py``: PSNR / SSIM)."""

    def __init__(self, args, row: str, seed: int, net_dir):
        label, fer, translator, model_net, extra_nets, options = ROWS[row]
        self.row, self.seed, self.translator, self.out = row, seed, translator, row_dir(args, row, seed)
        self.model_dir = net_dir(model_net)  # trained by an earlier task: its checkpoint is looked up when run
        self.options = [o.format(**{n: net_dir(n) for n in extra_nets}) for o in options]
        self.diffusion = 'pix2pix' not in translator
        self.sampler = [f'model.sampler.steps={args.steps}'] if self.diffusion else []
        self.quality_subjects = args.quality_subjects

    def translate(self, threads: int) -> dict:
        cmd = [*tool_command('translate.py'), self.translator, checkpoint_of(self.model_dir), '--src', SOURCE,
               '--split', 'train', '--out', osp.join(self.out, 'translations'), '--seed', str(self.seed),
               '--batch-size', '48', '--device', 'cpu']
        opts = self.sampler + self.options
        cmd += ['--cfg-options', *opts] if opts else []
        return run_step(f'{self.row} translation', cmd, osp.join(self.out, 'translate'), threads)

    def quality(self, threads: int) -> dict:
        cmd = [*tool_command('test.py'), self.translator, checkpoint_of(self.model_dir), '--work-dir',
               osp.join(self.out, 'quality'), '--cfg-options',
               f'test_dataloader.dataset.max_subjects={self.quality_subjects}', *self.sampler, *self.options]
        cmd += [f'model.seed={self.seed}'] if self.diffusion else []
        return run_step(f'{self.row} quality', cmd, osp.join(self.out, 'quality'), threads, parse_quality)


def fer_job(args, row: str, seed: int, threads: int) -> dict:
    """Train + test the classifier of ``row`` on D_HTR's NIR plus the row's data (its translations, if any)."""
    label, fer, translator, *_ = ROWS[row]
    out = row_dir(args, row, seed)
    options = [f'randomness.seed={seed}', *args.fer_options]
    if translator is not None:
        options.append(f'train_dataloader.dataset.datasets.1.image_root={osp.join(out, "translations")}')
    cmd = [*tool_command('train.py'), f'{PROTOCOL}/{fer}', '--work-dir', osp.join(out, 'fer'), '--cfg-options',
           *options]
    return dict(fer=run_step(f'{row} FER', cmd, osp.join(out, 'fer'), threads, parse_fer))


def report(key, result) -> None:
    print(f'[{time.strftime("%H:%M:%S")}] {key[0]} {key[1]} seed {key[2]}: {summary(key[0], result)}', flush=True)


def summary(kind: str, result: dict) -> str:
    if kind == 'net':
        return f'trained ({result["wall_s"]} s)'
    if kind == 'translate':
        return f'translated D_VIS ({result["wall_s"]} s)'
    if kind == 'quality':
        return (f'test translations PSNR {result["psnr"]:.2f} SSIM {result["ssim"]:.3f}' if 'psnr' in result
                else 'test translations: no PSNR / SSIM line')
    fer = result['fer']
    return fer.get('test_line') or f'fer/accuracy {fer.get("accuracy")}'


def row_result(results: dict, row: str, seed: int) -> Optional[dict]:
    """The figures of one (row, seed): ``fer``, and ``translate`` / ``quality`` where the row has them."""
    if not results.get(('row', row, seed)):
        return None
    merged = dict(results[('row', row, seed)])
    for part in ('translate', 'quality'):
        if results.get((part, row, seed)):
            merged[part] = results[(part, row, seed)]
    return merged


# ------------------------------------------------------------------------------------------------ the table
def write_table(args, results) -> str:
    rows, seeds, work = args.rows.split(','), args.seeds, osp.abspath(args.work_dir)
    header = ['row', 'accuracy (%)', 'macro-F1 (%)', 'PSNR (dB)', 'SSIM', 'translation s / seed',
              'FER s / seed'] + [f'acc. seed {s}' for s in seeds]
    table, records = [], {}
    for row in rows:
        per_seed = {s: row_result(results, row, s) for s in seeds}
        got = {s: r for s, r in per_seed.items() if r}

        def values(part, key):
            return [r[part][key] for r in got.values() if key in r.get(part, {})]

        cells = [ROWS[row][0], mean_std(values('fer', 'accuracy')), mean_std(values('fer', 'macro_f1')),
                 mean_std(values('quality', 'psnr'), 2), mean_std(values('quality', 'ssim'), 3),
                 mean_std(values('translate', 'wall_s'), 0), mean_std(values('fer', 'wall_s'), 0)]
        cells += [f'{got[s]["fer"]["accuracy"]:.1f}' if s in got and 'accuracy' in got[s]['fer'] else '-'
                  for s in seeds]
        table.append(cells)
        records[row] = {str(s): r for s, r in got.items()}
    md = ['| ' + ' | '.join(header) + ' |', '|' + '---|' * len(header)] + ['| ' + ' | '.join(c) + ' |' for c in table]
    with open(osp.join(work, 'table.md'), 'w') as f:
        f.write('\n'.join(md) + '\n')
    with open(osp.join(work, 'table.csv'), 'w', newline='') as f:
        csv.writer(f).writerows([header, *table])
    with open(osp.join(work, 'table.json'), 'w') as f:
        json.dump(dict(seeds=seeds, net_seed=args.net_seed, steps=args.steps, quality_subjects=args.quality_subjects,
                       quality_seeds=args.quality_seeds, rows=records), f, indent=1)
    return '\n'.join(md)


def main(argv=None):
    args = parse_args(argv)
    os.makedirs(args.work_dir, exist_ok=True)
    results = run_tasks(plan(args), args.jobs, report, threads=args.threads)
    print(write_table(args, results))
    return 0


if __name__ == '__main__':
    sys.exit(main())
