"""ADM U-Net / encoder: guided-diffusion key compatibility, attention orders, closed forms, loading helpers."""
import math

import pytest
import torch
import torch.nn.functional as F

from fertools.engine.checkpoint import CheckpointMismatchError
from fertools.models.backbones.adm import (ADM256_EGSDE, ADM256_UNCOND, EGSDE_DSE_KEY_MAP, ADMEncoderUNet, ADMUNet,
                                           GroupNorm32, ResBlock, init_conditional_from_unconditional,
                                           load_adm_checkpoint, qkv_attention, timestep_embedding)
from fertools.registry import MODELS

TINY = dict(image_size=16, in_channels=3, model_channels=32, out_channels=3, num_res_blocks=1,
            attention_resolutions=(8, ), channel_mult=(1, 2), num_heads=2, use_scale_shift_norm=True)

# guided-diffusion UNetModel(image_size=32, in_channels=3, model_channels=32, out_channels=3, num_res_blocks=1,
# attention_resolutions=(2,) [= create_model's 32 // 16], channel_mult=(1, 2), num_heads=2,
# use_scale_shift_norm=True, resblock_updown=True), derived by hand from unet.py: time_embed_dim 128; input
# blocks: conv, Res(32), Res(32, down), Res(32->64)+Attn; middle Res, Attn, Res; output blocks (skips popped
# 64, 32, 32, 32): Res(128->64)+Attn, Res(96->64)+Attn+Res(up), Res(96->32), Res(64->32); out GN + conv.
EXPECTED_KEYS = """
time_embed.0.weight 128,32
time_embed.0.bias 128
time_embed.2.weight 128,128
time_embed.2.bias 128
input_blocks.0.0.weight 32,3,3,3
input_blocks.0.0.bias 32
input_blocks.1.0.in_layers.0.weight 32
input_blocks.1.0.in_layers.0.bias 32
input_blocks.1.0.in_layers.2.weight 32,32,3,3
input_blocks.1.0.in_layers.2.bias 32
input_blocks.1.0.emb_layers.1.weight 64,128
input_blocks.1.0.emb_layers.1.bias 64
input_blocks.1.0.out_layers.0.weight 32
input_blocks.1.0.out_layers.0.bias 32
input_blocks.1.0.out_layers.3.weight 32,32,3,3
input_blocks.1.0.out_layers.3.bias 32
input_blocks.2.0.in_layers.0.weight 32
input_blocks.2.0.in_layers.0.bias 32
input_blocks.2.0.in_layers.2.weight 32,32,3,3
input_blocks.2.0.in_layers.2.bias 32
input_blocks.2.0.emb_layers.1.weight 64,128
input_blocks.2.0.emb_layers.1.bias 64
input_blocks.2.0.out_layers.0.weight 32
input_blocks.2.0.out_layers.0.bias 32
input_blocks.2.0.out_layers.3.weight 32,32,3,3
input_blocks.2.0.out_layers.3.bias 32
input_blocks.3.0.in_layers.0.weight 32
input_blocks.3.0.in_layers.0.bias 32
input_blocks.3.0.in_layers.2.weight 64,32,3,3
input_blocks.3.0.in_layers.2.bias 64
input_blocks.3.0.emb_layers.1.weight 128,128
input_blocks.3.0.emb_layers.1.bias 128
input_blocks.3.0.out_layers.0.weight 64
input_blocks.3.0.out_layers.0.bias 64
input_blocks.3.0.out_layers.3.weight 64,64,3,3
input_blocks.3.0.out_layers.3.bias 64
input_blocks.3.0.skip_connection.weight 64,32,1,1
input_blocks.3.0.skip_connection.bias 64
input_blocks.3.1.norm.weight 64
input_blocks.3.1.norm.bias 64
input_blocks.3.1.qkv.weight 192,64,1
input_blocks.3.1.qkv.bias 192
input_blocks.3.1.proj_out.weight 64,64,1
input_blocks.3.1.proj_out.bias 64
middle_block.0.in_layers.0.weight 64
middle_block.0.in_layers.0.bias 64
middle_block.0.in_layers.2.weight 64,64,3,3
middle_block.0.in_layers.2.bias 64
middle_block.0.emb_layers.1.weight 128,128
middle_block.0.emb_layers.1.bias 128
middle_block.0.out_layers.0.weight 64
middle_block.0.out_layers.0.bias 64
middle_block.0.out_layers.3.weight 64,64,3,3
middle_block.0.out_layers.3.bias 64
middle_block.1.norm.weight 64
middle_block.1.norm.bias 64
middle_block.1.qkv.weight 192,64,1
middle_block.1.qkv.bias 192
middle_block.1.proj_out.weight 64,64,1
middle_block.1.proj_out.bias 64
middle_block.2.in_layers.0.weight 64
middle_block.2.in_layers.0.bias 64
middle_block.2.in_layers.2.weight 64,64,3,3
middle_block.2.in_layers.2.bias 64
middle_block.2.emb_layers.1.weight 128,128
middle_block.2.emb_layers.1.bias 128
middle_block.2.out_layers.0.weight 64
middle_block.2.out_layers.0.bias 64
middle_block.2.out_layers.3.weight 64,64,3,3
middle_block.2.out_layers.3.bias 64
output_blocks.0.0.in_layers.0.weight 128
output_blocks.0.0.in_layers.0.bias 128
output_blocks.0.0.in_layers.2.weight 64,128,3,3
output_blocks.0.0.in_layers.2.bias 64
output_blocks.0.0.emb_layers.1.weight 128,128
output_blocks.0.0.emb_layers.1.bias 128
output_blocks.0.0.out_layers.0.weight 64
output_blocks.0.0.out_layers.0.bias 64
output_blocks.0.0.out_layers.3.weight 64,64,3,3
output_blocks.0.0.out_layers.3.bias 64
output_blocks.0.0.skip_connection.weight 64,128,1,1
output_blocks.0.0.skip_connection.bias 64
output_blocks.0.1.norm.weight 64
output_blocks.0.1.norm.bias 64
output_blocks.0.1.qkv.weight 192,64,1
output_blocks.0.1.qkv.bias 192
output_blocks.0.1.proj_out.weight 64,64,1
output_blocks.0.1.proj_out.bias 64
output_blocks.1.0.in_layers.0.weight 96
output_blocks.1.0.in_layers.0.bias 96
output_blocks.1.0.in_layers.2.weight 64,96,3,3
output_blocks.1.0.in_layers.2.bias 64
output_blocks.1.0.emb_layers.1.weight 128,128
output_blocks.1.0.emb_layers.1.bias 128
output_blocks.1.0.out_layers.0.weight 64
output_blocks.1.0.out_layers.0.bias 64
output_blocks.1.0.out_layers.3.weight 64,64,3,3
output_blocks.1.0.out_layers.3.bias 64
output_blocks.1.0.skip_connection.weight 64,96,1,1
output_blocks.1.0.skip_connection.bias 64
output_blocks.1.1.norm.weight 64
output_blocks.1.1.norm.bias 64
output_blocks.1.1.qkv.weight 192,64,1
output_blocks.1.1.qkv.bias 192
output_blocks.1.1.proj_out.weight 64,64,1
output_blocks.1.1.proj_out.bias 64
output_blocks.1.2.in_layers.0.weight 64
output_blocks.1.2.in_layers.0.bias 64
output_blocks.1.2.in_layers.2.weight 64,64,3,3
output_blocks.1.2.in_layers.2.bias 64
output_blocks.1.2.emb_layers.1.weight 128,128
output_blocks.1.2.emb_layers.1.bias 128
output_blocks.1.2.out_layers.0.weight 64
output_blocks.1.2.out_layers.0.bias 64
output_blocks.1.2.out_layers.3.weight 64,64,3,3
output_blocks.1.2.out_layers.3.bias 64
output_blocks.2.0.in_layers.0.weight 96
output_blocks.2.0.in_layers.0.bias 96
output_blocks.2.0.in_layers.2.weight 32,96,3,3
output_blocks.2.0.in_layers.2.bias 32
output_blocks.2.0.emb_layers.1.weight 64,128
output_blocks.2.0.emb_layers.1.bias 64
output_blocks.2.0.out_layers.0.weight 32
output_blocks.2.0.out_layers.0.bias 32
output_blocks.2.0.out_layers.3.weight 32,32,3,3
output_blocks.2.0.out_layers.3.bias 32
output_blocks.2.0.skip_connection.weight 32,96,1,1
output_blocks.2.0.skip_connection.bias 32
output_blocks.3.0.in_layers.0.weight 64
output_blocks.3.0.in_layers.0.bias 64
output_blocks.3.0.in_layers.2.weight 32,64,3,3
output_blocks.3.0.in_layers.2.bias 32
output_blocks.3.0.emb_layers.1.weight 64,128
output_blocks.3.0.emb_layers.1.bias 64
output_blocks.3.0.out_layers.0.weight 32
output_blocks.3.0.out_layers.0.bias 32
output_blocks.3.0.out_layers.3.weight 32,32,3,3
output_blocks.3.0.out_layers.3.bias 32
output_blocks.3.0.skip_connection.weight 32,64,1,1
output_blocks.3.0.skip_connection.bias 32
out.0.weight 32
out.0.bias 32
out.2.weight 3,32,3,3
out.2.bias 3
"""


def _tiny(**overrides):
    torch.manual_seed(0)
    return ADMUNet(**dict(TINY, **overrides))


def _zero_init_params(model):
    return [p for n, p in model.named_parameters() if n.startswith('out.2') or '.out_layers.3.' in n or
            '.proj_out.' in n]


def _perturb_zero_init(model, scale=0.1):
    with torch.no_grad():
        for p in _zero_init_params(model):
            p.normal_(0, scale)
    return model


def test_state_dict_keys_and_shapes_equal_guided_diffusion():
    model = MODELS.build(dict(type='ADMUNet', image_size=32, in_channels=3, model_channels=32, out_channels=3,
                              num_res_blocks=1, attention_resolutions=(16, ), channel_mult=(1, 2), num_heads=2,
                              use_scale_shift_norm=True, resblock_updown=True))
    expected = [(k, tuple(int(s) for s in shape.split(','))) for k, shape in
                (line.split() for line in EXPECTED_KEYS.strip().splitlines())]
    assert [(k, tuple(v.shape)) for k, v in model.state_dict().items()] == expected
    assert model.attention_ds == (2, )


def test_resample_and_label_keys_without_resblock_updown():
    model = _tiny(use_scale_shift_norm=False, num_classes=5)
    sd = {k: tuple(v.shape) for k, v in model.state_dict().items()}
    keys = list(sd)
    assert keys[4] == 'label_emb.weight' and sd['label_emb.weight'] == (5, 128)  # right after time_embed
    assert sd['input_blocks.2.0.op.weight'] == (32, 32, 3, 3)  # Downsample conv
    assert sd['output_blocks.1.2.conv.weight'] == (64, 64, 3, 3)  # Upsample conv
    assert sd['input_blocks.1.0.emb_layers.1.weight'] == (32, 128)  # no scale-shift: C outputs, not 2C
    pooled = _tiny(conv_resample=False)
    assert not any(k.startswith(('input_blocks.2.', 'output_blocks.1.2.')) for k in pooled.state_dict())


def test_forward_shapes_config_strings_and_default_channel_mult():
    model = _tiny(attention_resolutions='16,8', channel_mult='1,2')
    assert model.attention_ds == (1, 2) and model.channel_mult == (1, 2)
    x = torch.randn(2, 3, 16, 24)  # non-square sides, multiples of 2
    assert model(x, torch.tensor([0, 999])).shape == (2, 3, 16, 24)
    assert model(x, 10).shape == (2, 3, 16, 24)  # scalar timestep broadcast
    assert torch.equal(model(x, 10), model(x, torch.tensor([10., 10.])))  # int and float timesteps
    default = ADMUNet(image_size=32, in_channels=3, model_channels=32, out_channels=3, num_res_blocks=1,
                      attention_resolutions=(8, ), channel_mult=None)
    assert default.channel_mult == (1, 2, 2, 2) and default.attention_ds == (4, )
    assert ADMUNet(image_size=256, in_channels=3, model_channels=32, out_channels=3, num_res_blocks=1,
                   attention_resolutions='', channel_mult='', dims=2).channel_mult == (1, 1, 2, 2, 4, 4)


def test_zero_init_output_and_gradient_flow():
    model = _tiny(num_classes=3)
    assert all(p.abs().sum() == 0 for p in _zero_init_params(model))
    x, t, y = torch.randn(2, 3, 16, 16), torch.tensor([3, 700]), torch.tensor([0, 2])
    assert torch.equal(model(x, t, y), torch.zeros(2, 3, 16, 16))
    target = torch.randn(2, 3, 16, 16)
    (model(x, t, y) * target).sum().backward()  # d/d(out.2) is non-zero; the zero conv blocks everything else
    nonzero = {n for n, p in model.named_parameters() if p.grad is not None and p.grad.abs().sum() > 0}
    assert nonzero == {'out.2.weight', 'out.2.bias'}
    _perturb_zero_init(model).zero_grad()
    (model(x, t, y) * target).sum().backward()
    dead = [n for n, p in model.named_parameters() if p.grad is None or p.grad.abs().sum() == 0]
    assert dead == []


@pytest.mark.parametrize('up', [False, True])
def test_resblock_scale_shift_closed_form(up):
    torch.manual_seed(2)
    block = _perturb_zero_init(ResBlock(32, 16, 0., out_channels=64, use_scale_shift_norm=True, up=up))
    x, emb = torch.randn(2, 32, 4, 4), torch.randn(2, 16)
    gn_in, _, conv_in = block.in_layers
    gn_out, conv_out = block.out_layers[0], block.out_layers[3]
    resize = (lambda z: F.interpolate(z, scale_factor=2, mode='nearest')) if up else (lambda z: z)
    h = conv_in(resize(F.silu(gn_in(x))))
    scale, shift = block.emb_layers[1](F.silu(emb))[:, :, None, None].chunk(2, dim=1)
    expect = block.skip_connection(resize(x)) + conv_out(F.silu(gn_out(h) * (1 + scale) + shift))
    torch.testing.assert_close(block(x, emb), expect)
    assert block(x, emb).shape == (2, 64) + ((8, 8) if up else (4, 4))


def test_1d_and_3d_nets():
    net1d = _tiny(dims=1)
    assert net1d(torch.randn(2, 3, 12), torch.tensor([1, 2])).shape == (2, 3, 12)
    net3d = _tiny(dims=3, attention_resolutions=())
    assert net3d(torch.randn(1, 3, 3, 8, 8), torch.tensor([1])).shape == (1, 3, 3, 8, 8)  # depth kept
    with pytest.raises(ValueError, match=r'expected a \[B, C, D, H, W\] input'):
        net3d(torch.randn(1, 3, 8, 8), torch.tensor([1]))


def test_compiles_as_one_graph():
    model = _perturb_zero_init(_tiny(resblock_updown=True))
    x, t = torch.randn(2, 3, 16, 16), torch.tensor([1, 2])
    compiled = torch.compile(model, backend='eager', fullgraph=True)  # raises on any graph break
    torch.testing.assert_close(compiled(x, t), model(x, t))


def test_gradient_checkpointing_gives_same_gradients():
    x, t = torch.randn(2, 3, 16, 16), torch.tensor([5, 50])
    grads = []
    for use_checkpoint in (False, True):
        model = _perturb_zero_init(_tiny(use_checkpoint=use_checkpoint, dropout=0.))
        model(x, t).sum().backward()
        grads.append([p.grad for p in model.parameters()])
    for a, b in zip(*grads):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-6)


def test_channels_last_input_gives_same_output():
    model = _perturb_zero_init(_tiny()).eval()
    x, t = torch.randn(2, 3, 16, 16), torch.tensor([1, 2])
    out = model.to(memory_format=torch.channels_last)(x.to(memory_format=torch.channels_last), t)
    torch.testing.assert_close(out, model(x.contiguous(), t), rtol=1e-4, atol=1e-5)


def _reference_legacy(qkv, heads):
    """guided-diffusion QKVAttentionLegacy: heads split before q/k/v, scale ch^-1/4 on both q and k."""
    bs, width, length = qkv.shape
    ch = width // (3 * heads)
    q, k, v = qkv.reshape(bs * heads, 3 * ch, length).split(ch, dim=1)
    scale = 1 / math.sqrt(math.sqrt(ch))
    weight = torch.softmax(torch.einsum('bct,bcs->bts', q * scale, k * scale), dim=-1)
    return torch.einsum('bts,bcs->bct', weight, v).reshape(bs, -1, length)


def _reference_new_order(qkv, heads):
    """guided-diffusion QKVAttention: q/k/v split before heads."""
    bs, width, length = qkv.shape
    ch = width // (3 * heads)
    q, k, v = qkv.chunk(3, dim=1)
    scale = 1 / math.sqrt(math.sqrt(ch))
    weight = torch.einsum('bct,bcs->bts', (q * scale).reshape(bs * heads, ch, length),
                          (k * scale).reshape(bs * heads, ch, length))
    weight = torch.softmax(weight, dim=-1)
    return torch.einsum('bts,bcs->bct', weight, v.reshape(bs * heads, ch, length)).reshape(bs, -1, length)


def test_attention_orders_match_guided_diffusion_references():
    torch.manual_seed(1)
    qkv = torch.randn(2, 3 * 4 * 8, 20, dtype=torch.float64)
    legacy, new = qkv_attention(qkv, 4, legacy=True), qkv_attention(qkv, 4, legacy=False)
    torch.testing.assert_close(legacy, _reference_legacy(qkv, 4), rtol=1e-10, atol=1e-10)
    torch.testing.assert_close(new, _reference_new_order(qkv, 4), rtol=1e-10, atol=1e-10)
    assert not torch.allclose(legacy, new)  # the two layouts are genuinely different functions


def test_attention_block_uses_chosen_order_inside_the_net():
    legacy = _perturb_zero_init(_tiny())
    new = _tiny(use_new_attention_order=True)
    new.load_state_dict(legacy.state_dict())  # same keys: the order is not visible in the state dict
    x, t = torch.randn(1, 3, 16, 16), torch.tensor([9])
    block = legacy.middle_block[1]
    h = torch.randn(1, 64, 4, 4)
    flat = h.reshape(1, 64, 16)
    expect = flat + block.proj_out(_reference_legacy(block.qkv(block.norm(flat)), block.num_heads))
    torch.testing.assert_close(block(h), expect.reshape(h.shape), rtol=1e-5, atol=1e-5)
    assert not torch.allclose(legacy(x, t), new(x, t), atol=1e-4)


def test_timestep_embedding_closed_form():
    t = torch.tensor([0, 1, 250, 999])
    emb = timestep_embedding(t, 8)
    freqs = torch.tensor([10000**(-i / 4) for i in range(4)], dtype=torch.float64)
    args = t.double()[:, None] * freqs
    torch.testing.assert_close(emb.double(), torch.cat([args.cos(), args.sin()], 1), rtol=0, atol=1e-4)
    assert emb.dtype == torch.float32 and torch.equal(emb[0], torch.tensor([1.] * 4 + [0.] * 4))
    odd = timestep_embedding(torch.tensor([0.5, 3.25]), 7)
    assert odd.shape == (2, 7) and torch.equal(odd[:, -1], torch.zeros(2))
    torch.testing.assert_close(odd[:, 0], torch.tensor([0.5, 3.25]).cos())


def test_group_norm32_computes_in_float32_and_returns_input_dtype():
    norm = GroupNorm32(32, 64)
    x = (torch.randn(2, 64, 5) * 50 + 1000).bfloat16()
    out = norm(x)
    assert out.dtype == torch.bfloat16
    ref = F.group_norm(x.float(), 32, norm.weight, norm.bias, norm.eps)
    torch.testing.assert_close(out, ref.bfloat16(), rtol=0, atol=0)
    assert norm.to(torch.bfloat16)(x).dtype == torch.bfloat16  # bf16 parameters still normalise in float32


def test_class_conditional_label_embedding():
    model = _perturb_zero_init(_tiny(num_classes=4))
    x, t = torch.randn(2, 3, 16, 16), torch.tensor([100, 100])
    a, b = model(x, t, torch.tensor([0, 0])), model(x, t, torch.tensor([3, 3]))
    assert not torch.allclose(a, b, atol=1e-4)
    with torch.no_grad():
        model.label_emb.weight[3] = model.label_emb.weight[0]
    torch.testing.assert_close(model(x, t, torch.tensor([3, 3])), a)
    with pytest.raises(ValueError, match='num_classes'):
        model(x, t)
    with pytest.raises(ValueError, match='num_classes'):
        _tiny()(x, t, torch.tensor([0, 1]))
    with pytest.raises(ValueError, match='y must have shape'):
        model(x, t, torch.tensor([0]))


def test_bad_inputs_and_configs_raise_clear_errors():
    model = _tiny(channel_mult=(1, 2, 2))
    with pytest.raises(ValueError, match=r'input size 18x16 is not divisible by 4 .*image_size / channel_mult'):
        model(torch.randn(1, 3, 18, 16), torch.tensor([0]))
    with pytest.raises(ValueError, match='has 6 channels but in_channels=3'):
        model(torch.randn(1, 6, 16, 16), torch.tensor([0]))
    with pytest.raises(ValueError, match=r'timesteps must have shape \[B\]'):
        model(torch.randn(2, 3, 16, 16), torch.tensor([0, 1, 2]))
    with pytest.raises(ValueError, match=r'attention_resolutions \[12\]'):
        _tiny(attention_resolutions=(12, ))
    with pytest.raises(ValueError, match='multiple of 32'):
        _tiny(model_channels=16)
    with pytest.raises(ValueError, match='no default'):
        _tiny(image_size=48, channel_mult=None)
    with pytest.raises(ValueError, match='num_head_channels=24'):
        _tiny(num_head_channels=24)


def test_encoder_shares_trunk_keys_and_heads():
    enc_args = {k: v for k, v in TINY.items() if k != 'out_channels'}
    unet_sd = _tiny().state_dict()
    x, t = torch.randn(2, 3, 16, 16), torch.tensor([4, 40])
    for pool, head in [('adaptive', {'out.0.weight': (64, ), 'out.3.weight': (5, 64, 1, 1)}),
                       ('attention', {'out.2.positional_embedding': (64, 8 * 8 + 1), 'out.2.qkv_proj.weight':
                                      (192, 64, 1), 'out.2.c_proj.weight': (5, 64, 1)}),
                       ('spatial', {'out.0.weight': (2048, 32 * 3 + 64 * 2), 'out.2.weight': (5, 2048)}),
                       ('spatial_v2', {'out.1.weight': (2048, ), 'out.3.weight': (5, 2048)})]:
        enc = MODELS.build(dict(type='ADMEncoderUNet', out_channels=5, pool=pool, num_head_channels=32, **enc_args))
        sd = {k: tuple(v.shape) for k, v in enc.state_dict().items()}
        trunk = [k for k in sd if not k.startswith('out.')]
        assert trunk == [k for k in unet_sd if k.startswith(('time_embed', 'input_blocks', 'middle_block'))]
        assert all(sd[k] == tuple(unet_sd[k].shape) for k in trunk)
        assert {k: sd[k] for k in head} == head
        assert enc(x, t).shape == (2, 5)
        assert enc.forward_features(x, t).shape == (2, 64, 8, 8)
    with pytest.raises(ValueError, match='pool='):
        ADMEncoderUNet(out_channels=2, pool='max', **enc_args)
    with pytest.raises(ValueError, match='positional embedding'):
        enc_att = ADMEncoderUNet(out_channels=2, pool='attention', num_head_channels=32, **enc_args)
        enc_att(torch.randn(1, 3, 32, 32), torch.tensor([0]))


def test_load_adm_checkpoint_plain_prefixed_and_errors(tmp_path):
    src = _perturb_zero_init(_tiny())
    plain = tmp_path / 'adm_plain.pt'
    torch.save(src.state_dict(), plain)
    dst = _tiny()
    assert load_adm_checkpoint(dst, plain) == []
    x, t = torch.randn(1, 3, 16, 16), torch.tensor([7])
    torch.testing.assert_close(dst(x, t), src(x, t), rtol=0, atol=0)

    wrapped = tmp_path / 'fertools_ckpt.pth'
    torch.save({'state_dict': {f'unet.{k}': v for k, v in src.state_dict().items()}, 'meta': {}}, wrapped)
    dst = _tiny()
    load_adm_checkpoint(dst, wrapped, prefix='unet.')
    torch.testing.assert_close(dst(x, t), src(x, t), rtol=0, atol=0)

    with pytest.raises(FileNotFoundError, match=r'put the ADM checkpoint at .*nowhere\.pt \(config key model\.ckpt\)'):
        load_adm_checkpoint(dst, tmp_path / 'nowhere.pt', config_key='model.ckpt')
    with pytest.raises(ValueError, match="prefix 'score.'"):
        load_adm_checkpoint(dst, wrapped, prefix='score.')
    bigger = _tiny(model_channels=64, num_classes=2)
    with pytest.raises(CheckpointMismatchError, match=r'shape mismatch: time_embed\.0\.weight.*missing in '
                       r'checkpoint: label_emb\.weight'):
        load_adm_checkpoint(bigger, plain)
    problems = load_adm_checkpoint(_tiny(num_res_blocks=2), plain, strict=False)
    assert any(p.startswith('missing in checkpoint') for p in problems)


def test_learned_sigma_checkpoint_drops_sigma_channels(tmp_path):
    src = _perturb_zero_init(_tiny(out_channels=6))
    path = tmp_path / 'learn_sigma.pt'
    torch.save(src.state_dict(), path)
    dst = _tiny(out_channels=3)
    with pytest.raises(CheckpointMismatchError, match='drop_learned_sigma=True'):
        load_adm_checkpoint(dst, path)
    load_adm_checkpoint(dst, path, drop_learned_sigma=True)
    x, t = torch.randn(2, 3, 16, 16), torch.tensor([1, 900])
    torch.testing.assert_close(dst(x, t), src(x, t)[:, :3], rtol=0, atol=0)


def test_conditional_init_equals_unconditional_function(tmp_path):
    uncond = _perturb_zero_init(_tiny(out_channels=6))
    path = tmp_path / 'uncond.pt'
    torch.save(uncond.state_dict(), path)
    cond = _tiny(in_channels=6, out_channels=3)
    assert init_conditional_from_unconditional(cond, path, drop_learned_sigma=True) == []
    w = cond.input_blocks[0][0].weight
    assert torch.equal(w[:, :3], uncond.input_blocks[0][0].weight) and torch.equal(w[:, 3:], torch.zeros_like(w[:, 3:]))
    x, t = torch.randn(2, 3, 16, 16), torch.tensor([10, 500])
    for source in (torch.randn(2, 3, 16, 16), 10 * torch.randn(2, 3, 16, 16)):
        torch.testing.assert_close(cond(torch.cat([x, source], 1), t), uncond(x, t)[:, :3], rtol=1e-5, atol=1e-6)
    cond.zero_grad()
    cond(torch.cat([x, torch.randn_like(x)], 1), t).square().sum().backward()
    assert w.grad[:, 3:].abs().sum() > 0  # the source channels start at zero but do train
    with pytest.raises(ValueError, match='needs in_channels >='):
        init_conditional_from_unconditional(_tiny(in_channels=1), uncond.state_dict(), drop_learned_sigma=True)


def test_egsde_dse_head_key_map(tmp_path):
    enc_args = dict({k: v for k, v in TINY.items() if k != 'out_channels'}, out_channels=2, pool='attention',
                    num_head_channels=32)
    src = ADMEncoderUNet(**enc_args)
    path = tmp_path / 'cat2dog_dse.pt'
    torch.save({k.replace('out.', 'I2Iout.', 1) if k.startswith('out.') else k: v
                for k, v in src.state_dict().items()}, path)
    dst = ADMEncoderUNet(**enc_args)
    with pytest.raises(CheckpointMismatchError, match='I2Iout'):
        load_adm_checkpoint(dst, path)
    load_adm_checkpoint(dst, path, key_map=EGSDE_DSE_KEY_MAP)
    x, t = torch.randn(1, 3, 16, 16), torch.tensor([3])
    torch.testing.assert_close(dst(x, t), src(x, t), rtol=0, atol=0)


def _count(cls, **cfg):
    with torch.device('meta'):
        return sum(p.numel() for p in cls(**cfg).parameters())


def test_adm256_preset_parameter_counts_on_meta_device():
    assert _count(ADMUNet, **ADM256_UNCOND) == 552_814_086
    assert _count(ADMUNet, **dict(ADM256_UNCOND, num_classes=1000)) == 553_838_086  # "ADM-256: 554M"
    assert _count(ADMUNet, **ADM256_EGSDE) == 93_563_910
    assert _count(ADMUNet, **dict(ADM256_EGSDE, in_channels=6, out_channels=3)) == 93_563_907
    assert _count(ADMEncoderUNet, image_size=256, in_channels=3, model_channels=128, out_channels=2,
                  num_res_blocks=2, attention_resolutions='32,16,8', channel_mult='', num_head_channels=64,
                  use_scale_shift_norm=True, resblock_updown=True, pool='attention') == 53_584_386
