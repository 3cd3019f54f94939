"""Writing one output image per source image, resumably: what ``tools/translate.py`` (VIS → NIR translations) and
``tools/generate_references.py`` (IDFERM's generated neutral faces) share.

- Sources: :func:`folder_items` (every image under a folder) or :func:`dataset_items` (the samples of a config's
  ``<split>_dataloader`` dataset); each item is ``(relative_name, load)`` with ``load()`` giving a results dict.
  A dataset sample's name is :func:`fertools.datasets.folder_images.relative_name`, the name
  :class:`~fertools.datasets.FolderImagesDataset` reads the files back under.
- Outputs: :func:`output_path` (the same relative name under ``out``), :func:`write_image` (atomic: temp file +
  rename, so a killed run never leaves a truncated image), :func:`check_settings` (a ``*_settings.json`` guard:
  a folder never mixes outputs of different settings), :func:`pending_batches` (fixed batches; a batch whose
  outputs all exist is skipped, so a killed run resumes without redoing or rewriting finished images).
- :func:`translate_batches`: the loop of both tools — load, run the model's test pipeline, ``model.translate``
  (batch ``b`` seeded with ``seed + b``), write, with a progress bar and a preview grid.
"""
import json
import os
import os.path as osp
from typing import Callable, List, Sequence, Tuple

from fertools.datasets.folder_images import IMAGE_EXTS, relative_name
from fertools.utils.image_io import write_image_atomic as write_image
from fertools.utils.atomic_write import write_json_atomic

__all__ = ['IMAGE_EXTS', 'folder_items', 'dataset_items', 'output_path', 'write_image', 'check_settings',
           'pending_batches', 'translate_batches']

Item = Tuple[str, Callable[[], dict]]


def folder_items(src: str, ignore: Sequence[str] = ()) -> List[Item]:
    """``[(relative_name, load)]`` for every image under ``src`` (sorted); ``load()`` reads the file into a results
    dict. Hidden files and names in ``ignore`` are skipped; any other non-image file is an error."""
    from fertools.apis.inference import _results
    items = []
    for root, _, files in os.walk(src):
        for name in sorted(files):
            path = osp.join(root, name)
            rel = osp.relpath(path, src)
            if name in ignore or name.startswith('.'):
                continue
            if not name.lower().endswith(IMAGE_EXTS):
                raise ValueError(f'--src {src!r}: {rel!r} is not an image ({", ".join(IMAGE_EXTS)}); move it out of '
                                 'the folder or give a dataset config as --src.')
            items.append((rel, lambda p=path: _results(p)))
    if not items:
        raise FileNotFoundError(f'--src {src!r}: no images found.')
    return sorted(items, key=lambda item: item[0])


def dataset_items(src: str, split: str, packed: bool = True) -> List[Item]:
    """``[(relative_name, load)]`` for the ``<split>_dataloader`` dataset of config ``src``.

    ``packed=True``: ``load()`` is ``dataset[i]``, the sample through the dataset's own pipeline;
    ``packed=False``: ``dataset.get_data_info(i)``, the raw results dict (image or path, landmarks ...) for the
    caller's pipeline (a model's test pipeline).
    """
    from mmengine.registry import init_default_scope

    from fertools.registry import DATASETS
    from fertools.utils import load_config
    cfg = load_config(src)
    init_default_scope(cfg.get('default_scope', 'fertools'))
    key = f'{split}_dataloader'
    if not (cfg.get(key) or {}).get('dataset'):
        raise KeyError(f'{src!r} has no {key}.dataset; choose another split or config.')
    dataset = DATASETS.build(cfg[key]['dataset'])
    root = getattr(dataset, 'data_root', None)
    load = dataset.__getitem__ if packed else dataset.get_data_info
    return [(relative_name(dataset.get_data_info(i), root, i), lambda i=i: load(i)) for i in range(len(dataset))]


def output_path(out: str, rel: str) -> str:
    """Where the output of source ``rel`` goes: ``out/rel``, with ``.png`` added to a name without an image
    extension."""
    return osp.join(out, rel if osp.splitext(rel)[1].lower() in IMAGE_EXTS else rel + '.png')


def check_settings(out: str, settings: dict, file_name: str) -> None:
    """Save ``settings`` as ``out/file_name``; refuse an ``out`` whose saved settings differ."""
    path = osp.join(out, file_name)
    if osp.isfile(path):
        with open(path) as f:
            old = json.load(f)
        if old != settings:
            changed = sorted(k for k in set(old) | set(settings) if old.get(k) != settings.get(k))
            raise ValueError(f'--out {out!r} holds images made with other settings (differing: {changed}; see {path}); '
                             'use a new --out, or delete it to start over.')
        return
    write_json_atomic(path, settings, indent=2, sort_keys=True)


def pending_batches(items: Sequence[Item], batch_size: int, out: str, rank: int = 0,
                    world: int = 1) -> Tuple[List[Tuple[int, List[Item]]], int]:
    """Cut ``items`` into fixed batches of ``batch_size``, keep this rank's (``b % world == rank``) and drop those
    whose outputs all exist. Returns ``([(batch_index, batch)], number of this rank's items already written)``."""
    if batch_size < 1:
        raise ValueError(f'--batch-size must be >= 1; got {batch_size}.')
    batches = [list(items[s:s + batch_size]) for s in range(0, len(items), batch_size)]
    mine = [(b, batch) for b, batch in enumerate(batches) if b % world == rank]
    todo = [(b, batch) for b, batch in mine if not all(osp.isfile(output_path(out, rel)) for rel, _ in batch)]
    return todo, sum(len(batch) for _, batch in mine) - sum(len(batch) for _, batch in todo)


def model_pipeline(model):
    """The model config's test pipeline (cached on the model)."""
    if not hasattr(model, '_translate_pipeline'):
        from fertools.apis.inference import inference_pipeline
        model._translate_pipeline = inference_pipeline(model)
    return model._translate_pipeline


def translate_batches(model, todo: Sequence[Tuple[int, List[Item]]], out: str, src: str, seed: int = 0,
                      target_key: str = 'paired_img'):
    """Translate and write every batch of ``todo`` (from :func:`pending_batches`).

    Each item is loaded (a packed sample is used as it is, a results dict goes through the model's test
    pipeline), batch ``b`` is translated with ``torch.Generator().manual_seed(seed + b)``, and each output not
    yet on disk is written atomically under :func:`output_path`.

    Returns:
        ``(written, grid)``: the number of files written and the preview grid of the first batch (source |
        translation | each sample's ``target_key`` image when all have it; ``uint8 [H, W, 3]`` RGB, or ``None``).

    Raises:
        IOError: an item cannot be read (the message names it and ``src``; finished images are kept).
    """
    import torch
    from mmengine.utils import ProgressBar

    from fertools.utils.thread_budget import ThreadBudget
    from fertools.visualization import image_rows_grid
    from .translation import to_uint8_images, translate_packed
    device = next(model.parameters()).device
    grid, written = None, 0
    bar = ProgressBar(sum(len(batch) for _, batch in todo)) if todo else None
    budget = ThreadBudget()
    for b, batch in todo:
        budget.poll()
        packed = []
        for rel, load in batch:
            try:
                results = load()
            except Exception as err:  # noqa: BLE001 - re-raised naming the file
                raise IOError(f'{rel!r} in --src {src!r} cannot be read: {err}; fix or remove it, then rerun '
                              '(finished images are kept).') from err
            packed.append(results if 'inputs' in results else model_pipeline(model)(results))
        generator = torch.Generator(device=device).manual_seed(seed + b)
        inputs, translations, samples = translate_packed(model, packed, generator)
        for (rel, _), image in zip(batch, to_uint8_images(translations)):
            path = output_path(out, rel)
            if not osp.isfile(path):
                write_image(path, image)
                written += 1
            bar.update()
        if grid is None:
            columns = [(inputs[:8] + 1) / 2, (translations[:8] + 1) / 2]
            if samples and all(target_key in s for s in samples[:8]):
                targets = torch.stack([s.get(target_key) for s in samples[:8]]).to(inputs)
                columns.append((model.to_target(targets) + 1) / 2)
            grid = image_rows_grid(columns)
    return written, grid
