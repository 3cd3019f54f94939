"""What the identity / perceptual networks share: the frozen switch and loading released weights."""
from typing import Optional, Tuple

from torch import nn

__all__ = ['IdentityNetBase']


class IdentityNetBase(nn.Module):
    """Base of :class:`~.light_cnn.LightCNN9` & co. and :class:`~.vgg_face.VGGFace`.

    Frozen networks (a loss's fixed feature extractor): :meth:`freeze` (or ``frozen=True`` in a subclass's
    constructor) sets eval mode and ``requires_grad=False`` on every parameter, and :meth:`train` keeps eval
    mode afterwards, so a parent's ``.train()`` cannot switch dropout back on. Gradients still flow *through*
    a frozen network to its input (what a generator's identity / perceptual loss needs).

    Class attributes of subclasses:
        official_file (str): file name of the released weights, named when the file is missing.
        init_nonlinearity (str): gain of :meth:`reset_weights` (``'linear'`` for MFM nets, ``'relu'``).
        ignored_checkpoint_prefixes (tuple of str): checkpoint keys dropped on loading (e.g. the classifier
            of a VGG-Face built without it); set per instance.
    """

    official_file: str = ''
    ignored_checkpoint_prefixes: Tuple[str, ...] = ()
    init_nonlinearity = 'linear'

    def __init__(self):
        super().__init__()
        self.frozen = False

    def reset_weights(self) -> None:
        """He-normal weights ``N(0, gain² / fan_in)`` (``gain`` of :attr:`init_nonlinearity`), zero biases, for
        every conv / linear layer.

        Choice (the release relied on PyTorch 0.x defaults): an MFM output, the max of two i.i.d. zero-mean
        halves, keeps their second moment, so ``'linear'`` gain keeps the signal scale through a Light-CNN;
        PyTorch's default init (variance ``1 / (3 fan_in)``) shrinks it about 3x per layer, and a LightCNN-9 then
        barely moves in a short training run. Not named ``init_weights`` on purpose: MMEngine calls that on
        children after building, which would overwrite loaded weights.
        """
        for module in self.modules():
            if isinstance(module, (nn.Conv2d, nn.Linear)):
                nn.init.kaiming_normal_(module.weight, mode='fan_in', nonlinearity=self.init_nonlinearity)
                if module.bias is not None:
                    nn.init.zeros_(module.bias)

    def finish_init(self, pretrained: Optional[str], frozen: bool) -> None:
        """:meth:`reset_weights`, then load ``pretrained`` (see :func:`~.checkpoint.load_identity_checkpoint`) if
        given, then freeze if asked. Subclasses call it at the end of ``__init__``."""
        self.reset_weights()
        if pretrained is not None:
            from .checkpoint import load_identity_checkpoint
            load_identity_checkpoint(self, pretrained, config_key='pretrained')
        if frozen:
            self.freeze()

    def freeze(self) -> 'IdentityNetBase':
        """Eval mode for good and no parameter gradients; returns ``self``."""
        self.frozen = True
        self.requires_grad_(False)
        return self.eval()

    def train(self, mode: bool = True) -> 'IdentityNetBase':
        """``nn.Module.train``, except that a frozen network stays in eval mode."""
        return super().train(mode and not self.frozen)
