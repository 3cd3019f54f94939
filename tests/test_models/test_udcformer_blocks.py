"""Building blocks of LRDif's UDCformer: prior modulation, DMNet, DGNet, windows, MHCA, DIL, fusion."""
import pytest
import torch
import torch.nn.functional as F

from fertools.models.backbones.udcformer import (DGNet, DILBlock, DILnetwork, DMNet, DTBlock, DTnetwork,
                                                 FusionTransformer, PriorModulatedLayerNorm,
                                                 WindowCrossAttention, channel_attention,
                                                 relative_position_index, window_partition, window_reverse)


@pytest.fixture(autouse=True)
def _one_thread():
    """Tiny tensors: one intra-op thread avoids thread-sync overhead on the shared 2-core machine."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


# ---------------------------------------------------------------- prior modulation (eq. 2)
def test_prior_modulation_matches_eq2_channels_first():
    m = PriorModulatedLayerNorm(8, 16, 'channels_first')
    x, z = torch.randn(2, 8, 5, 6), torch.randn(2, 16)
    gamma, beta = (z @ m.kernel.weight.t()).chunk(2, dim=1)
    ln = F.layer_norm(x.permute(0, 2, 3, 1), (8,), m.norm.weight, m.norm.bias)
    expected = (ln * gamma[:, None, None] + beta[:, None, None]).permute(0, 3, 1, 2)
    torch.testing.assert_close(m(x, z), expected)


def test_prior_modulation_different_prior_changes_output_and_zero_w_gives_zero():
    m = PriorModulatedLayerNorm(8, 16, 'channels_last')
    x = torch.randn(3, 7, 8)
    z1, z2 = torch.randn(3, 16), torch.randn(3, 16)
    assert not torch.allclose(m(x, z1), m(x, z2))
    # Per-sample modulation: changing sample 0's prior leaves sample 1 untouched.
    z3 = z1.clone()
    z3[0] += 1
    out1, out3 = m(x, z1), m(x, z3)
    assert not torch.allclose(out1[0], out3[0]) and torch.allclose(out1[1:], out3[1:])
    with torch.no_grad():
        m.kernel.weight.zero_()
    assert torch.equal(m(x, z1), torch.zeros_like(x))  # LN(F)·0 + 0
    m_res = PriorModulatedLayerNorm(8, 16, 'channels_last', residual_scale=True)
    with torch.no_grad():
        m_res.kernel.weight.zero_()
    torch.testing.assert_close(m_res(x, z1), m_res.norm(x))  # (1 + 0)·LN(F) + 0


def test_prior_modulation_bad_shapes():
    m = PriorModulatedLayerNorm(8, 16)
    with pytest.raises(ValueError, match=r'prior must be \[B, 16\]'):
        m(torch.randn(2, 8, 4, 4), torch.randn(2, 15))
    with pytest.raises(ValueError, match='expected 8 channels'):
        m(torch.randn(2, 7, 4, 4), torch.randn(2, 16))
    with pytest.raises(ValueError, match='data_format'):
        PriorModulatedLayerNorm(8, 16, 'nhwc')


# ---------------------------------------------------------------- DMNet (eq. 3)
def test_dmnet_attention_is_channel_by_channel_and_resolution_independent():
    m = DMNet(12, num_heads=3)
    for h, w in [(5, 7), (9, 4)]:
        attn = m.attention_map(torch.randn(2, 12, h, w))
        assert attn.shape == (2, 3, 4, 4)  # (C/heads)² per head, whatever H·W
        torch.testing.assert_close(attn.sum(-1), torch.ones(2, 3, 4))
        assert m(torch.randn(2, 12, h, w)).shape == (2, 12, h, w)
    assert all(p.bias is None for p in (m.qkv, m.qkv_dwconv, m.project_out))
    assert m.temperature.shape == (3, 1, 1) and torch.equal(m.temperature, torch.ones(3, 1, 1))


def test_channel_attention_spatial_permutation_invariant_map_and_equivariant_output():
    q, k, v = torch.randn(3, 2, 2, 5, 30).unbind(0)
    temp = torch.rand(2, 1, 1) + 0.5
    out, attn = channel_attention(q, k, v, temp)
    perm = torch.randperm(30)
    out_p, attn_p = channel_attention(q[..., perm], k[..., perm], v[..., perm], temp)
    torch.testing.assert_close(attn_p, attn)  # the C×C map does not see where the pixels are
    torch.testing.assert_close(out_p, out[..., perm])  # and the output moves with the pixels
    # L2-normalisation along space: scaling q or k spatially uniformly does not change the map.
    torch.testing.assert_close(channel_attention(q * 3.0, k * 0.5, v, temp)[1], attn)
    # Temperature sharpens: larger temperature -> lower entropy.
    ent = lambda a: -(a * a.clamp_min(1e-12).log()).sum(-1).mean()  # noqa: E731
    assert ent(channel_attention(q, k, v, temp * 10)[1]) < ent(attn)


def test_dmnet_forward_equals_manual_computation():
    m = DMNet(4, num_heads=2)
    x = torch.randn(1, 4, 3, 3)
    qkv = m.qkv_dwconv(m.qkv(x)).reshape(1, 12, 9)
    q, k, v = qkv[:, :4], qkv[:, 4:8], qkv[:, 8:]
    outs = []
    for h in range(2):
        qh, kh, vh = (t[:, 2 * h:2 * h + 2] for t in (q, k, v))
        a = (F.normalize(qh, dim=-1) @ F.normalize(kh, dim=-1).transpose(1, 2) * m.temperature[h]).softmax(-1)
        outs.append(a @ vh)
    expected = m.project_out(torch.cat(outs, 1).reshape(1, 4, 3, 3))
    torch.testing.assert_close(m(x), expected)
    with pytest.raises(ValueError, match='divisible'):
        DMNet(10, num_heads=3)


# ---------------------------------------------------------------- DGNet (eq. 4)
def test_dgnet_gating_and_structure():
    m = DGNet(10, expansion=2.66)
    assert m.hidden == 26 and m.project_in.out_channels == 52 and m.dwconv.groups == 52
    x = torch.randn(2, 10, 6, 6)
    x1, x2 = m.dwconv(m.project_in(x)).chunk(2, 1)
    torch.testing.assert_close(m(x), m.project_out(F.gelu(x1) * x2))
    with torch.no_grad():  # the second path gates: zero it and the output is the projection of 0
        m.project_in.weight[26:] = 0
    assert torch.allclose(m(x), torch.zeros_like(x))


def test_dt_block_residual_and_prior_dependence():
    blk = DTBlock(8, 2, prior_dim=6)
    x = torch.randn(2, 8, 5, 5)
    assert not torch.allclose(blk(x, torch.randn(2, 6)), blk(x, torch.randn(2, 6)))
    zero = torch.zeros(2, 6)  # γ = β = 0 → both sub-layers see 0 → output = x + const(bias-free) = x
    torch.testing.assert_close(blk(x, zero), x)


def test_dtnetwork_levels_shapes_and_switches():
    kw = dict(prior_dim=6, dims=(8, 16, 24), depths=(1, 1, 1), heads=(1, 2, 2))
    z = torch.randn(2, 6)
    for unet in (True, False):
        for down in ('pixel_unshuffle', 'conv'):
            net = DTnetwork(stem_stride=2, out_indices=(0, 1, 2), unet=unet, downsample=down,
                            dims=(8, 16, 24), depths=(1, 1, 1), heads=(1, 2, 2), prior_dim=6)
            feats = net(torch.randn(2, 3, 32, 32), z)
            assert [tuple(f.shape) for f in feats] == [(2, 8, 16, 16), (2, 16, 8, 8), (2, 24, 4, 4)]
    net = DTnetwork(stem_stride=1, out_indices=(1, 2), decoder_depths=(2, 1), **kw)
    assert '0' not in net.decoders and len(net.decoders['1'].blocks) == 1  # finest decoder unused → not built
    assert net.out_strides == (2, 4) and net.out_channels == (16, 24)
    enc = DTnetwork(stem_stride=1, out_indices=(0, 1), unet=False, **kw)
    assert len(enc.encoders) == 2  # coarser level would be dead weight without the decoder
    with pytest.raises(ValueError, match='divisible by 8'):
        DTnetwork(stem_stride=2, out_indices=(0, 1, 2), **kw)(torch.randn(1, 3, 36, 36), torch.randn(1, 6))
    with pytest.raises(ValueError, match='divisible by 4'):
        DTnetwork(dims=(8, 18, 24), depths=(1, 1, 1), heads=(1, 2, 2), prior_dim=6, out_indices=(0, 1, 2))
    with pytest.raises(ValueError, match='out_indices'):
        DTnetwork(out_indices=(2, 1), **kw)
    with pytest.raises(ValueError, match='out_indices'):
        DTnetwork(**kw)  # default (1, 2, 3) needs 4 levels


# ---------------------------------------------------------------- windows and relative positions
@pytest.mark.parametrize('ws', [4, (2, 3), 12])
def test_window_partition_reverse_round_trip(ws):
    x = torch.randn(2, 12, 12, 5)
    win = window_partition(x, ws)
    wh, ww = (ws, ws) if isinstance(ws, int) else ws
    assert win.shape == (2 * (12 // wh) * (12 // ww), wh * ww, 5)
    assert torch.equal(window_reverse(win, ws, 12, 12), x)
    # The first window of image 1 holds its top-left block in row-major order.
    n_win = (12 // wh) * (12 // ww)
    assert torch.equal(win[n_win].reshape(wh, ww, 5), x[1, :wh, :ww])
    with pytest.raises(ValueError, match='cannot be split'):
        window_partition(torch.randn(1, 10, 12, 5), 4)


def test_relative_position_index_encodes_displacements():
    ws = 3
    idx = relative_position_index(ws)
    assert idx.shape == (9, 9) and idx.min() == 0 and idx.max() == (2 * ws - 1) ** 2 - 1
    centre = (ws - 1) * (2 * ws - 1) + (ws - 1)
    assert torch.all(idx.diagonal() == centre)
    assert torch.all(idx + idx.t() == 2 * centre)  # opposite displacements mirror around the centre
    # token 0 = (0,0), token 8 = (2,2): Δ = (-2,-2) → row 0, col 0; reverse Δ = (2,2) → last entry.
    assert idx[0, 8] == 0 and idx[8, 0] == 24
    # token 1 = (0,1), token 3 = (1,0): Δ = (-1, +1) → (1, 3) in the 5×5 table.
    assert idx[1, 3] == 1 * 5 + 3
    # equal displacement, same index: (0,0)->(1,1) and (1,1)->(2,2)
    assert idx[0, 4] == idx[4, 8]
    assert len(torch.unique(idx)) == 25
    rect = relative_position_index((2, 3))
    assert rect.shape == (6, 6) and rect.max() == 3 * 5 - 1


# ---------------------------------------------------------------- MHCA (eqs. 5–7) and DIL block (eqs. 8–9)
def test_window_cross_attention_matches_reference_per_window():
    attn = WindowCrossAttention(8, num_heads=2, window_size=2)
    b, nw = 2, 3
    x, q = torch.randn(b * nw, 4, 8), torch.randn(b, 4, 8)
    out = attn(x, q)
    bias = attn.relative_position_bias()
    assert bias.shape == (2, 4, 4)
    # reference: loop over images, windows and heads
    ref = torch.empty(b * nw, 4, 8)
    for i in range(b):
        for w in range(nw):
            k, v = attn.kv(x[i * nw + w]).chunk(2, dim=-1)
            heads = []
            for h in range(2):
                sl = slice(4 * h, 4 * h + 4)
                a = (q[i][:, sl] @ k[:, sl].t() * 4 ** -0.5 + bias[h]).softmax(-1)
                heads.append(a @ v[:, sl])
            ref[i * nw + w] = attn.proj(torch.cat(heads, -1))
    torch.testing.assert_close(out, ref)
    with pytest.raises(ValueError, match='landmark query'):
        attn(x, torch.randn(4, 4, 8))  # 4 does not divide 6 windows' batch


def test_relative_bias_changes_attention():
    attn = WindowCrossAttention(4, 1, 2)
    x, q = torch.randn(1, 4, 4), torch.randn(1, 4, 4)
    before = attn(x, q)
    with torch.no_grad():
        attn.relative_position_bias_table[0] += 5.0
    assert not torch.allclose(before, attn(x, q))


def test_dil_block_residual_equations():
    blk = DILBlock(8, 2, window_size=2, prior_dim=6, modulate=True)
    x, q, z = torch.randn(2, 4, 4, 8), torch.randn(2, 4, 8), torch.randn(2, 6)
    o = window_reverse(blk.attn(window_partition(blk.norm1(x, z), 2), q), 2, 4, 4)
    x1 = x + o
    torch.testing.assert_close(blk(x, q, z), x1 + blk.mlp(blk.norm2(x1, z)))
    assert blk.mlp[0].out_features == 32  # ratio 4
    plain = DILBlock(8, 2, window_size=2, prior_dim=6, modulate=False)
    assert plain.norm1.kernel is None and plain(x, q).shape == x.shape


def test_dil_network_scales_and_query_dependence():
    net = DILnetwork(in_channels=(8, 16), landmark_channels=(5, 16), dims=(8, 12), heads=(2, 3),
                     window_sizes=(4, 2), prior_dim=6)
    feats = [torch.randn(2, 8, 8, 8), torch.randn(2, 16, 4, 4)]
    lms = [torch.randn(2, 5, 7, 7), torch.randn(2, 16, 4, 4)]
    z = torch.randn(2, 6)
    outs = net(feats, lms, z)
    assert [tuple(o.shape) for o in outs] == [(2, 8, 8, 8), (2, 12, 4, 4)]
    lms2 = [lms[0] + torch.randn_like(lms[0]), lms[1]]
    outs2 = net(feats, lms2, z)
    assert not torch.allclose(outs[0], outs2[0]) and torch.allclose(outs[1], outs2[1])
    with pytest.raises(ValueError, match='one entry per scale'):
        DILnetwork((8,), (5, 6), (8,), (2,), (4,))


# ---------------------------------------------------------------- fusion (eqs. 10–12)
@pytest.mark.parametrize('tokens,pool', [('coarsest', 'cls'), ('all', 'mean')])
def test_fusion_transformer_tokens_and_pooling(tokens, pool):
    fus = FusionTransformer([6, 8, 10], [(8, 8), (4, 4), (2, 2)], embed_dim=16, depth=2, num_heads=4,
                            tokens=tokens, pool=pool)
    xs = [torch.randn(2, 6, 8, 8), torch.randn(2, 8, 4, 4), torch.randn(2, 10, 2, 2)]
    n = 3 * 4 if tokens == 'coarsest' else 64 + 16 + 4
    assert fus.tokenize(xs).shape == (2, n, 16)
    assert fus.pos_embed.shape[1] == n + (pool == 'cls')
    out = fus(xs)
    assert out.shape == (2, 16)
    # each scale contributes: perturbing the coarsest scale changes the pooled feature
    xs2 = [xs[0], xs[1], xs[2] + 1]
    assert not torch.allclose(out, fus(xs2))
    with pytest.raises(ValueError, match='fixed at construction'):
        fus([torch.randn(2, 6, 4, 4), xs[1], xs[2]])


def test_fusion_mean_pool_is_token_permutation_invariant_without_pos_embed():
    fus = FusionTransformer([4], [(2, 2)], embed_dim=8, depth=1, num_heads=2, tokens='all', pool='mean')
    with torch.no_grad():
        fus.pos_embed.zero_()
    x = torch.randn(1, 4, 2, 2)
    torch.testing.assert_close(fus([x]), fus([x.flip(-1)]))
