"""HardNegativeMetric: identity / pixel closeness of generated neutral faces, neutral-ness, errors."""
import pytest
import torch
from mmengine.evaluator import Evaluator
from torch import nn

from fertools.evaluation.metrics import HardNegativeMetric, closer_than_others
from fertools.models.data_preprocessors import FERDataPreprocessor
from fertools.registry import METRICS

S = 8


def neutral_faces(num_subjects=4):
    """Distinct neutral faces ``[N, 1, S, S]`` in [0, 1]: subject k is bright in row band k."""
    faces = torch.full((num_subjects, 1, S, S), 0.2)
    for k in range(num_subjects):
        faces[k, :, 2 * k:2 * k + 2] = 0.9
    return faces


def samples_for(pred, subjects, gallery, source=None):
    return [dict(pred_img=pred[i], gt_img=gallery[s], subject_id=f'S{s}',
                 **({} if source is None else dict(source_img=source[i]))) for i, s in enumerate(subjects)]


def evaluate(metric, samples, batch=3):
    evaluator = Evaluator([metric])
    for start in range(0, len(samples), batch):
        evaluator.process(samples[start:start + batch])
    return evaluator.evaluate(len(samples))


def test_closer_than_others_is_strict():
    dist = torch.tensor([[0.1, 0.5, 0.3], [0.4, 0.4, 0.9], [0.2, 0.1, 0.3]])
    assert closer_than_others(dist, torch.tensor([0, 0, 1])).tolist() == [True, False, True]


def test_perfect_and_swapped_generators():
    gallery = neutral_faces()
    subjects = [0, 0, 1, 1, 2, 2, 3, 3]
    exact = gallery[subjects] + 0.01  # each generated face is (almost) its subject's neutral face
    result = evaluate(HardNegativeMetric(), samples_for(exact, subjects, gallery))
    assert result == {'hng/pixel_closer_rate': 1.0, 'hng/l1': pytest.approx(0.01, abs=1e-6)}
    swapped = gallery[[(s + 1) % 4 for s in subjects]]
    result = evaluate(HardNegativeMetric(), samples_for(swapped, subjects, gallery))
    assert result['hng/pixel_closer_rate'] == 0.0
    # half right, half wrong
    mixed = torch.cat([exact[:4], swapped[4:]])
    assert evaluate(HardNegativeMetric(), samples_for(mixed, subjects, gallery))['hng/pixel_closer_rate'] == 0.5


class RowMeans(nn.Module):
    """A stand-in identity network: feature = the mean of each row (brightness band = identity here)."""

    def identity_features(self, x):
        feature = x.mean((1, 3))
        return [feature, feature.sum(1, keepdim=True)]


def test_identity_closeness_can_differ_from_pixel_closeness():
    gallery = neutral_faces()
    subjects = [0, 1, 2, 3]
    # a dimmed copy of the own face: the same row profile (cosine distance 0), but every gallery face (all equally
    # bright, all brighter than it everywhere) is equally far in L1 — a tie, which is not "closer"
    pred = 0.2 * gallery[subjects]
    metric = HardNegativeMetric(identity_network=RowMeans())
    result = evaluate(metric, samples_for(pred, subjects, gallery))
    assert result['hng/identity_closer_rate'] == 1.0 and result['hng/pixel_closer_rate'] == 0.0
    # the metric state is cleared between evaluations: the same call gives the same figures
    assert evaluate(metric, samples_for(pred, subjects, gallery)) == result
    euclidean = HardNegativeMetric(identity_network=RowMeans(), identity_distance='euclidean')
    assert evaluate(euclidean, samples_for(gallery[subjects], subjects, gallery))['hng/identity_closer_rate'] == 1.0


def test_the_queries_own_closeness_is_reported_next_to_the_generated_faces():
    gallery = neutral_faces()
    subjects = [0, 1, 2, 3]
    swapped = gallery[[1, 2, 3, 0]]
    # perfect generated faces, queries that look like the next subject: the judge's reference fails, x* passes
    result = evaluate(HardNegativeMetric(identity_network=RowMeans()),
                      samples_for(gallery[subjects], subjects, gallery, source=swapped))
    assert result['hng/pixel_closer_rate'] == result['hng/identity_closer_rate'] == 1.0
    assert result['hng/pixel_closer_rate_source'] == result['hng/identity_closer_rate_source'] == 0.0
    assert result['hng/l1'] == 0.0 and result['hng/l1_source'] > 0.1
    # a query of another shape (an RGB face next to grey x*) has no comparable closeness: no _source keys
    rgb = evaluate(HardNegativeMetric(), samples_for(gallery[subjects], subjects, gallery,
                                                     source=swapped.expand(-1, 3, -1, -1)))
    assert set(rgb) == {'hng/pixel_closer_rate', 'hng/l1'}


class BrightnessClassifier(nn.Module):
    """Neutral iff the face is dark on average (classes: happiness, neutral)."""

    def __init__(self):
        super().__init__()
        self.data_preprocessor = FERDataPreprocessor(mean=[0.0] * 3, std=[255.0] * 3)
        self.dataset_meta = dict(classes=['happiness', 'neutral'], input_size=[16, 16])
        self.seen = []

    def forward(self, inputs, data_samples=None, mode='tensor'):
        self.seen.append(tuple(inputs.shape))
        dark = (inputs.mean((1, 2, 3)) < 0.5).float()
        return torch.stack([1 - dark, dark], 1) * 4  # logits: softmax 0.018 / 0.982


def test_neutral_rate_of_generated_faces_and_queries():
    gallery = neutral_faces()
    subjects = [0, 1, 2, 3]
    source = torch.ones(4, 1, S, S) * 0.9  # bright queries: "happy"
    classifier = BrightnessClassifier()
    metric = METRICS.build(dict(type='HardNegativeMetric', classifier=classifier))
    result = evaluate(metric, samples_for(gallery[subjects], subjects, gallery, source))
    assert result['hng/neutral_rate'] == 1.0 and result['hng/neutral_rate_source'] == 0.0
    high = torch.tensor([0.0, 4.0]).softmax(0)[1].item()
    assert result['hng/neutral_prob'] == pytest.approx(high, rel=1e-5) and result['hng/neutral_prob_source'] == \
        pytest.approx(1 - high, rel=1e-5)
    assert result['hng/neutral_prob_higher_rate'] == 1.0
    assert classifier.seen[0][1:] == (3, 16, 16)  # resized to its input size, grey replicated to its channels


def test_errors_are_named():
    gallery = neutral_faces()
    with pytest.raises(ValueError, match='at least 2 subjects'):
        evaluate(HardNegativeMetric(), samples_for(gallery[[0, 0]], [0, 0], gallery))
    bad = samples_for(gallery[[0, 1]], [0, 1], gallery)
    del bad[0]['gt_img']
    with pytest.raises(KeyError, match='with_neutral=True'):
        evaluate(HardNegativeMetric(), bad)
    nameless = samples_for(gallery[[0, 1]], [0, 1], gallery)
    del nameless[1]['subject_id']
    with pytest.raises(KeyError, match='subject_id'):
        evaluate(HardNegativeMetric(), nameless)
    classifier = BrightnessClassifier()
    classifier.dataset_meta = dict(classes=['happiness', 'sadness'])
    with pytest.raises(ValueError, match="no 'neutral'"):
        HardNegativeMetric(classifier=classifier)
    with pytest.raises(TypeError, match='config=..., checkpoint=...'):
        HardNegativeMetric(classifier=dict(config='x.py'))
    with pytest.raises(FileNotFoundError, match='tools/train.py'):
        HardNegativeMetric(classifier=dict(config='configs/baselines/resnet18_synthface.py', checkpoint='none.pth'))
    with pytest.raises(ValueError, match='identity_distance'):
        HardNegativeMetric(identity_distance='l1')
