"""OpenCLIPEncoder: tiny random open_clip (no download), frozen, cached text/image features, weight files."""
import pytest
import torch

from fertools.models.backbones.open_clip_encoder import FERTOOLS_CLIP_ARCHS, OpenCLIPEncoder, prompt_for
from fertools.registry import MODELS

CLASSES = ('neutral', 'happiness', 'sadness', 'surprise', 'fear', 'disgust', 'anger')


@pytest.fixture(scope='module')
def encoder():
    torch.manual_seed(0)
    return MODELS.build(dict(type='OpenCLIPEncoder', model_name='fertools-clip-test'))


def test_registered_tiny_arch_and_shapes(encoder):
    import open_clip
    assert 'fertools-clip-test' in open_clip.list_models()
    assert encoder.embed_dim == FERTOOLS_CLIP_ARCHS['fertools-clip-test']['embed_dim'] == 32
    x = torch.randn(3, 3, 40, 40)
    f = encoder.encode_image(x)
    assert f.shape == (3, 32)
    assert torch.allclose(f.norm(dim=1), torch.ones(3), atol=1e-5)  # normalize=True
    t = encoder.class_text_features(CLASSES)
    assert t.shape == (7, 32)


def test_frozen_no_grad_and_stays_eval(encoder):
    assert not any(p.requires_grad for p in encoder.parameters())
    encoder.train()
    assert not encoder.clip.training
    x = torch.randn(2, 3, 32, 32, requires_grad=True)
    assert not encoder.encode_image(x).requires_grad


def test_prompts_from_class_names(encoder):
    assert encoder.class_prompts(('happiness', 'anger')) == ('a photo of a happy face.', 'a photo of a angry face.')
    assert prompt_for('surprise', 'a photo of a {} face') == 'a photo of a surprised face'


def test_text_features_computed_once(encoder):
    encoder.clear_cache()
    before = encoder.stats['text_encodes']
    a = encoder.class_text_features(CLASSES)
    b = encoder.class_text_features(CLASSES)
    assert encoder.stats['text_encodes'] - before == 7  # one pass of 7 prompts, then the cache
    assert torch.equal(a, b)
    # prompts of different classes differ (the label is visible to FPEN_S1)
    sim = a @ a.T
    assert float(sim.diagonal().min()) > float((sim - 2 * torch.eye(7)).max())


def test_eval_image_cache_by_content(encoder):
    encoder.clear_cache()
    encoder.eval()
    x = torch.randn(4, 3, 32, 32)
    n0 = encoder.stats['image_encodes']
    a = encoder.encode_image(x)
    b = encoder.encode_image(x[[2, 0]])  # cached, any order
    assert encoder.stats['image_encodes'] - n0 == 4
    assert torch.equal(b, a[[2, 0]])
    y = x.clone()
    y[1, 0, 0, 0] += 1.0  # changed content -> recomputed
    encoder.encode_image(y)
    assert encoder.stats['image_encodes'] - n0 == 5
    encoder.train()  # training batches never use the cache
    encoder.encode_image(x)
    assert encoder.stats['image_encodes'] - n0 == 9


def test_input_renormalisation(encoder):
    """A preprocessor-normalised batch is mapped back to [0, 1] RGB then to CLIP's mean/std."""
    enc = OpenCLIPEncoder('fertools-clip-test', input_mean=(100., 100., 100.), input_std=(50., 50., 50.))
    raw = torch.full((1, 3, 32, 32), 150.0)  # 0–255
    clip_in = enc.to_clip_input((raw - 100.) / 50.)
    expected = (150. / 255. - enc.clip_mean) / enc.clip_std
    assert torch.allclose(clip_in, expected.expand_as(clip_in), atol=1e-5)


def test_missing_weights_file_names_it(tmp_path):
    missing = tmp_path / 'no_such_clip.pt'
    with pytest.raises(FileNotFoundError, match='no_such_clip.pt') as err:
        OpenCLIPEncoder('fertools-clip-test', pretrained=str(missing))
    assert 'clip_pretrained' in str(err.value)
    with pytest.raises(FileNotFoundError, match='clip_pretrained'):
        OpenCLIPEncoder('fertools-clip-test', require_pretrained=True)


def test_local_weights_load_exactly(tmp_path, encoder):
    path = tmp_path / 'clip.pt'
    torch.save(encoder.clip.state_dict(), path)
    torch.manual_seed(123)  # a different random init, overwritten by the file
    other = OpenCLIPEncoder('fertools-clip-test', pretrained=str(path))
    x = torch.randn(2, 3, 32, 32)
    other.clear_cache()
    encoder.clear_cache()
    assert torch.allclose(other.encode_image(x), encoder.encode_image(x), atol=1e-6)
    assert torch.allclose(other.class_text_features(CLASSES), encoder.class_text_features(CLASSES), atol=1e-6)


def test_unknown_arch_message():
    with pytest.raises(KeyError, match='unknown open_clip architecture'):
        OpenCLIPEncoder('no-such-arch')
