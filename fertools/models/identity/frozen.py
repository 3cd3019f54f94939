"""One entry point for the frozen identity / perceptual network of a loss (IDFERM eq. 6 and its perceptual loss)."""
from typing import Optional, Union

from torch import nn

from fertools.registry import MODELS
from ..energies.frozen_network import network_config, resolve_checkpoint
from .checkpoint import load_identity_checkpoint

__all__ = ['build_frozen_identity_network']


def build_frozen_identity_network(network: Union[str, dict, nn.Module], checkpoint: Optional[str],
                                  config_key: str = 'checkpoint', allow_random: bool = False) -> nn.Module:
    """Build an identity network, load its weights, freeze it (eval mode kept, no parameter gradients).

    Two ways to name it:

    - **released weights**: ``network`` is a ``MODELS`` config (``dict(type='LightCNN9')``,
      ``dict(type='VGGFace', with_fc=False)``) or a module, ``checkpoint`` the released file
      (``LightCNN_9Layers_checkpoint.pth.tar``, ``vgg_face_dag.pth``, ...);
    - **a fertools-trained net**: ``network`` is the path of its training config (e.g.
      ``'configs/idferm/lightcnn9_synthface_id.py'``), ``checkpoint`` a ``.pth`` of that run or its work dir
      (``'work_dirs/lightcnn9_synthface_id'``: the file its ``last_checkpoint`` names). When the config's
      ``model`` is a wrapper with a ``backbone`` (:class:`~.identity_classifier.IdentityClassifier`), only the
      backbone is built and loaded (keys ``backbone.*``).

    Args:
        network (str | dict | nn.Module): see above.
        checkpoint (str | None): see above. ``None`` (random weights) only with ``allow_random=True`` (tests).
        config_key (str): the config key of ``checkpoint``, quoted in errors.
        allow_random (bool): accept ``checkpoint=None``.

    Returns:
        the frozen network (not registered anywhere: the caller decides whether it joins its module tree).

    Raises:
        ValueError: ``checkpoint=None`` without ``allow_random``.
        FileNotFoundError: a missing config or checkpoint (names the file to put there or the training command).
        fertools.engine.CheckpointError: an unreadable file or one that does not fit the network.
    """
    if checkpoint is None and not allow_random:
        raise ValueError(f'`{config_key}` is None, so the identity network would have random weights and its loss '
                         'would be meaningless; set it to the released file or a fertools work dir '
                         '(allow_random=True only for tests).')
    prefix, hint = '', None
    if isinstance(network, str):
        config_path = network
        network = network_config(config_path)
        if 'backbone' in network:
            network, prefix = network['backbone'], 'backbone.'
        if checkpoint is not None:
            checkpoint = resolve_checkpoint(checkpoint)
            hint = (f'train it with `python tools/train.py {config_path}` and set `{config_key}` to its work dir or '
                    'a .pth it writes')
    module = network if isinstance(network, nn.Module) else MODELS.build(network)
    if checkpoint is not None:
        load_identity_checkpoint(module, checkpoint, config_key, prefix=prefix, missing_hint=hint)
    if callable(getattr(module, 'freeze', None)):
        return module.freeze()
    module.requires_grad_(False)
    return module.eval()
