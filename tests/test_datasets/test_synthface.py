"""SynthFace generator: determinism, random access, geometry, expressions, identity vs expression, NIR."""
import pytest
import torch

from fertools.datasets.expressions import ALL_EXPRESSIONS
from fertools.datasets.synthface import SynthFaceGenerator, noisy_labels

SIZE = 64
FIXED = dict(yaw=0.0, pitch=0.0, roll=0.0, scale=0.0, shift=0.0, light_azimuth=0.0, color_temp=0.0,
             exposure=0.0, noise=0.0, ambient=(0.45, 0.45))


def ids(*xs):
    return [torch.tensor(x, dtype=torch.long) for x in xs]


@pytest.fixture(scope='module')
def gen():
    return SynthFaceGenerator(SIZE, seed=3)


@pytest.fixture(scope='module')
def batch(gen):
    s, e, v = ids(list(range(12)), [i % 8 for i in range(12)], [i % 3 for i in range(12)])
    return (s, e, v), gen.render(s, e, v)


def test_shapes_and_dtypes(batch):
    _, out = batch
    assert out['vis'].shape == (12, SIZE, SIZE, 3) and out['vis'].dtype == torch.uint8
    assert out['nir'].shape == (12, SIZE, SIZE) and out['nir'].dtype == torch.uint8
    assert out['landmarks'].shape == (12, 68, 2) and out['landmarks'].dtype == torch.float32
    assert out['expression'].dtype == torch.long and out['subject'].dtype == torch.long
    assert out['intensity'].dtype == torch.float32
    assert (out['intensity'][out['expression'] == 0] == 0).all()
    assert (out['intensity'][out['expression'] != 0] > 0).all()
    lm = out['landmarks']
    assert ((lm > -2) & (lm < SIZE + 2)).all()


def test_random_access_is_bit_exact(gen, batch):
    (s, e, v), out = batch
    for i in (0, 5, 11):                              # alone, and with another chunking and instance
        one = gen.render(s[i:i + 1], e[i:i + 1], v[i:i + 1])
        assert torch.equal(one['vis'][0], out['vis'][i]) and torch.equal(one['nir'][0], out['nir'][i])
        assert torch.allclose(one['landmarks'][0], out['landmarks'][i], atol=1e-4)
    other = SynthFaceGenerator(SIZE, seed=3, chunk_size=5).render(s.flip(0), e.flip(0), v.flip(0))
    assert torch.equal(other['vis'].flip(0), out['vis']) and torch.equal(other['nir'].flip(0), out['nir'])
    # another seed gives other faces
    diff = SynthFaceGenerator(SIZE, seed=4).render(s, e, v)
    assert (diff['vis'].float() - out['vis'].float()).abs().mean() > 10


def test_eye_landmarks_lie_on_eye_pixels():
    gen = SynthFaceGenerator(112, seed=0)
    s = torch.arange(6)
    out = gen.render(s, s * 0, s * 0, frontal_neutral=True)
    lm, nir = out['landmarks'], out['nir'].float()
    for eye in (slice(36, 42), slice(42, 48)):
        lo = lm[:, eye].amin(1).floor().long()
        hi = lm[:, eye].amax(1).ceil().long()
        for i in range(6):
            patch = nir[i, lo[i, 1]:hi[i, 1] + 1, lo[i, 0]:hi[i, 0] + 1]
            cheek = nir[i, int(lm[i, 29, 1]), int((lm[i, 2, 0] + lm[i, 31, 0]) / 2)]
            assert patch.min() < 0.5 * cheek, 'the dark pupil lies inside the eye landmarks'
            assert patch.max() > 0.8 * cheek, 'bright sclera/glint inside the eye landmarks'
    # the outer eye corners are left/right of the inner ones, and the brows are above the eyes
    assert (lm[:, 36, 0] < lm[:, 39, 0]).all() and (lm[:, 42, 0] < lm[:, 45, 0]).all()
    assert (lm[:, 17:27, 1].mean(1) < lm[:, 36:48, 1].mean(1)).all()
    assert (lm[:, 8, 1] > lm[:, 57, 1]).all() and (lm[:, 30, 1] < lm[:, 51, 1]).all()


def test_expressions_move_mouth_and_brows():
    gen = SynthFaceGenerator(SIZE, seed=1, difficulty=dict(FIXED, intensity=(0.9, 1.0)))
    n = 6
    s = torch.arange(n)
    ex = {name: gen.render(s, torch.full((n, ), ALL_EXPRESSIONS.index(name)), s * 0) for name in
          ('neutral', 'happiness', 'surprise', 'anger', 'sadness')}
    lm = {k: o['landmarks'] for k, o in ex.items()}
    gap = {k: (v[:, 66, 1] - v[:, 62, 1]) for k, v in lm.items()}
    assert (gap['surprise'] > gap['neutral'] + 2).all(), 'jaw drop opens the inner lips'
    corners = lambda v: v[:, [48, 54], 1].mean(1) - v[:, [62, 66], 1].mean(1)  # noqa: E731
    assert (corners(lm['happiness']) < corners(lm['neutral'])).all(), 'smiles lift the lip corners'
    assert (corners(lm['sadness']) > corners(lm['neutral'])).all(), 'sadness lowers the lip corners'
    brow_eye = lambda v: v[:, 36:48, 1].mean(1) - v[:, 17:27, 1].mean(1)  # noqa: E731
    assert (brow_eye(lm['surprise']) > brow_eye(lm['neutral'])).all()
    assert (brow_eye(lm['anger']) < brow_eye(lm['neutral'])).all()
    # pixels change around the mouth more than elsewhere
    d = (ex['happiness']['vis'].float() - ex['neutral']['vis'].float()).abs().mean(-1)
    for i in range(n):
        lo = lm['neutral'][i, 48:68].amin(0).long() - 2
        hi = lm['neutral'][i, 48:68].amax(0).long() + 3
        mouth = d[i, lo[1]:hi[1], lo[0]:hi[0]].mean()
        b = lm['neutral'][i]
        forehead = d[i, int(b[19, 1]) - 6:int(b[19, 1]) - 2, int(b[19, 0]):int(b[24, 0])].mean()
        assert mouth > forehead + 5


def test_identity_varies_more_than_expression():
    gen = SynthFaceGenerator(SIZE, seed=0)
    S, E = 8, 7
    s, e = torch.arange(S).repeat_interleave(E), torch.arange(E).repeat(S)
    x = gen.render(s, e, s * 0)['vis'].float().view(S, E, -1)
    iu, eu = torch.triu_indices(S, S, 1), torch.triu_indices(E, E, 1)
    between_subjects = (x[:, None] - x[None]).abs().mean(-1)[iu[0], iu[1]].mean()
    between_expressions = (x[:, :, None] - x[:, None]).abs().mean(-1)[:, eu[0], eu[1]].mean()
    assert between_subjects > 1.8 * between_expressions


def test_nir_is_grey_and_differs_from_vis(batch):
    _, out = batch
    vis, nir = out['vis'].float(), out['nir'].float()
    grey = vis @ torch.tensor([0.299, 0.587, 0.114])
    assert nir.dim() == 3
    assert (nir - grey).abs().mean() > 10                     # a real domain gap
    # but the same face: inside the face, NIR follows the sample's own VIS structure more than another's
    lm = out['landmarks']
    lo, hi = lm[:, 17:68].amin(1).long().clamp(0, SIZE), lm[:, 17:68].amax(1).long().clamp(0, SIZE)

    def corr(a, b):
        a, b = a - a.mean(), b - b.mean()
        return float((a * b).sum() / (a.norm() * b.norm()))

    own, other = [], []
    for i in range(len(nir)):
        crop = (slice(lo[i, 1], hi[i, 1]), slice(lo[i, 0], hi[i, 0]))
        own.append(corr(nir[i][crop], grey[i][crop]))
        j = (i + 1) % len(nir)
        other.append(corr(nir[i][crop], grey[j][crop]))
    assert sum(own) / len(own) > sum(other) / len(other) + 0.1


def test_nir_is_nearly_illumination_invariant():
    s = torch.arange(6)
    outs = [SynthFaceGenerator(SIZE, 0, difficulty=dict(FIXED, light_azimuth=a, ambient=(0.2, 0.2))).render(
        s, s * 0 + 1, s * 0) for a in (0.0, 80.0)]
    dv = (outs[0]['vis'].float() - outs[1]['vis'].float()).abs().mean()
    dn = (outs[0]['nir'].float() - outs[1]['nir'].float()).abs().mean()
    assert dv > 5 and dn < 0.2 * dv


def test_frontal_neutral_ignores_expression_and_variation(gen):
    s, e, v = ids([2, 2, 7], [0, 3, 5], [0, 4, 9])
    out = gen.render(s, e, v, frontal_neutral=True)
    assert torch.equal(out['vis'][0], out['vis'][1]) and torch.equal(out['vis'][0], out['vis'][2]) is False
    assert (out['expression'] == 0).all() and (out['intensity'] == 0).all()
    # symmetric pose: jaw landmarks mirror about the face's vertical axis
    lm = out['landmarks'][0]
    assert torch.allclose(lm[0, 0] + lm[16, 0], 2 * lm[8, 0], atol=0.05)


def test_label_noise_is_deterministic_and_has_the_rate():
    labels = torch.arange(7).repeat(1000)
    keys = torch.arange(7000)
    a, b = noisy_labels(labels, 0, keys, 0.2, 7), noisy_labels(labels, 0, keys, 0.2, 7)
    assert torch.equal(a, b)
    rate = (a != labels).float().mean().item()
    assert 0.17 < rate < 0.23 and ((a >= 0) & (a < 7)).all()
    assert torch.equal(noisy_labels(labels, 0, keys, 0.0, 7), labels)


@pytest.mark.parametrize('kwargs, match', [
    (dict(image_size=16), 'image_size'), (dict(difficulty='medium'), 'difficulty'),
    (dict(difficulty=dict(yaww=3)), 'yaww')])
def test_bad_generator_arguments(kwargs, match):
    with pytest.raises((ValueError, KeyError), match=match):
        SynthFaceGenerator(**kwargs)


def test_bad_render_arguments(gen):
    with pytest.raises(ValueError, match='expression_ids'):
        gen.render(*ids([0], [8], [0]))
    with pytest.raises(ValueError, match='equal length'):
        gen.render(*ids([0, 1], [0], [0]))
    with pytest.raises(ValueError, match='1-D integer'):
        gen.render(torch.zeros(1), *ids([0], [0]))


def test_intensity_scale_gives_an_onset_to_apex_sequence(gen):
    n = 4
    s, e, v = ids([5] * n, [3] * n, [1] * n)
    out = gen.render(s, e, v, intensity_scale=torch.linspace(0, 1, n))
    gap = out['landmarks'][:, 66, 1] - out['landmarks'][:, 62, 1]
    assert (gap[1:] > gap[:-1]).all() and out['intensity'][0] == 0
    # same pose: the jaw outline moves only through the jaw drop, the brows' x stay put
    assert torch.allclose(out['landmarks'][0, 17:27, 0], out['landmarks'][-1, 17:27, 0], atol=1.5)


def test_yaw_deg_overrides_the_head_yaw(gen):
    s, e, v = ids([1, 1, 1, 1], [1, 1, 1, 1], [2, 2, 2, 2])
    base = gen.render(s, e, v)
    out = gen.render(s, e, v, yaw_deg=torch.tensor([0.0, 45.0, -45.0, float('nan')]))
    lm = out['landmarks']
    assert torch.equal(out['vis'][3], base['vis'][3])                      # NaN keeps the sampled yaw
    assert torch.equal(out['vis'][1], gen.render(s[:1], e[:1], v[:1], yaw_deg=torch.tensor([45.0]))['vis'][0])
    # the nose tip moves towards the turned side, relative to the face's jaw-outline centre
    rel = lm[:, 30, 0] - 0.5 * (lm[:, 0, 0] + lm[:, 16, 0])
    assert rel[1] > rel[0] + 2 and rel[2] < rel[0] - 2
    assert torch.equal(out['expression'], base['expression']) and torch.equal(out['intensity'], base['intensity'])
    with pytest.raises(ValueError, match='yaw_deg'):
        gen.render(s, e, v, yaw_deg=torch.zeros(3))


def test_feature_windows_hold_every_feature(monkeypatch):
    """Features are drawn in per-face windows; drawing them over the whole image changes no pixel."""
    from fertools.datasets.synthface import generator as G
    g = SynthFaceGenerator(48, seed=2, difficulty='hard')
    s = torch.arange(24)
    args = (s // 3, s % 8, s % 5)
    windowed = g.render(*args)
    monkeypatch.setattr(G.SynthFaceGenerator, '_windows',
                        lambda self, extents: {name: G._Window(0, 48, 0, 48) for name in G.FEATURES})
    full = g.render(*args)
    assert torch.equal(windowed['vis'], full['vis']) and torch.equal(windowed['nir'], full['nir'])


def test_default_intensities_are_mostly_clear_with_a_subtle_tail():
    n = 2000
    s = torch.arange(n)
    args = (s, 1 + s % 6, s * 0)
    inten = SynthFaceGenerator(32, seed=0).sample_parameters(*args)['intensity']
    assert inten.median() > 0.55, 'mostly medium to strong'
    assert 0.03 < (inten < 0.35).float().mean() < 0.2, 'a subtle tail remains'
    hard = SynthFaceGenerator(32, seed=0, difficulty='hard').sample_parameters(*args)['intensity']
    assert hard.median() < inten.median() - 0.15
    # the rendered intensity is the sampled one
    out = SynthFaceGenerator(32, seed=0).render(s[:4], 1 + s[:4] % 6, s[:4] * 0)
    assert torch.allclose(out['intensity'], inten[:4].float())


def test_reused_scratch_buffers_do_not_leak_between_calls(gen, batch):
    """Full-image scratch planes are reused across chunks and calls (and dropped when pickled)."""
    import pickle
    (s, e, v), out = batch
    gen.render(s[:1], e[:1], v[:1], frontal_neutral=True)      # a smaller chunk in between
    again = gen.render(s, e, v)
    assert torch.equal(again['vis'], out['vis']) and torch.equal(again['nir'], out['nir'])
    clone = pickle.loads(pickle.dumps(gen))
    one = clone.render(s[3:4], e[3:4], v[3:4])
    assert torch.equal(one['vis'][0], out['vis'][3]) and torch.equal(one['nir'][0], out['nir'][3])


def test_outputs_are_ordinary_tensors(gen):
    """The rasteriser runs in inference mode, but what it returns can be edited in place by transforms."""
    s, e, v = ids([0, 1], [1, 2], [0, 0])
    out = gen.render(s, e, v)
    assert not any(t.is_inference() for t in out.values())
    out['vis'][0, 0, 0] = 7
    out['landmarks'].mul_(0.5)
    assert out['vis'][0, 0, 0].tolist() == [7, 7, 7]


def test_store_bytes_writes_each_grey_level_to_its_pixel():
    """Quantised planes (2^23 + level, RGB + NIR) land as uint8 in the rows of vis [N, H, W, 3] and nir."""
    from fertools.datasets.synthface import generator as G
    levels = torch.randint(0, 256, (3, 4, 5, 7), generator=torch.Generator().manual_seed(0)).float()
    vis = torch.zeros(6, 5, 7, 3, dtype=torch.uint8)
    nir = torch.zeros(6, 5, 7, dtype=torch.uint8)
    G._store_bytes(levels + G._MAGIC, vis[2:5], nir[2:5])
    assert torch.equal(vis[2:5], levels[:, :3].permute(0, 2, 3, 1).to(torch.uint8))
    assert torch.equal(nir[2:5], levels[:, 3].to(torch.uint8))
    assert not vis[:2].any() and not vis[5:].any() and not nir[:2].any() and not nir[5:].any()


def test_sqrt_is_correctly_rounded():
    """The renderer's square root is IEEE 754's (float64 rounded to float32), not a vectorised approximation."""
    from fertools.datasets.synthface import generator as G
    x = torch.rand(4, 37, 53, generator=torch.Generator().manual_seed(1)) * 65025
    x[0, 0, :3] = torch.tensor([0.0, 1.0, 65025.0])
    view = x.clone()[:, 3:30, 5:40]                   # in place on a strided view, too
    assert torch.equal(G._sqrt_(x.clone()), x.double().sqrt().float())
    assert torch.equal(G._sqrt_(view), x[:, 3:30, 5:40].double().sqrt().float())
