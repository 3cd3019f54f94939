"""IDFERM's radial metric loss (eq. 8, 14, 16), the pytorch-metric-learning wrapper and the centre loss."""
import pytest
import torch
from pytorch_metric_learning import losses as pml_losses
from pytorch_metric_learning import miners as pml_miners

from fertools.models.losses import CenterLoss, PMLMetricLoss, QuadraticScore, RadialMetricLoss, class_centers
from fertools.registry import LOSSES


def _set_identity_score(score: QuadraticScore, b: float) -> None:
    """L_A = L_B = I, c = 0: H(f1, f2) = ½‖f1 − f2‖² + b."""
    with torch.no_grad():
        score.L_A.weight.copy_(torch.eye(score.embed_dim))
        score.L_B.weight.copy_(torch.eye(score.embed_dim))
        score.linear.weight.zero_()
        score.linear.bias.fill_(b)


def test_score_is_the_symmetric_quadratic_form_of_eq14():
    torch.manual_seed(0)
    d, r = 5, 3
    score = QuadraticScore(d, rank=r)
    with torch.no_grad():
        for p in score.parameters():
            p.copy_(torch.randn_like(p))
    f1, f2 = torch.randn(7, d), torch.randn(7, d)
    A = score.L_A.weight.t() @ score.L_A.weight
    B = score.L_B.weight.t() @ score.L_B.weight
    M = torch.cat([torch.cat([A, -B], 1), torch.cat([-B, A], 1)])
    assert torch.allclose(M, M.t())
    assert torch.linalg.matrix_rank(A) == r and torch.linalg.matrix_rank(B) == r
    z = torch.cat([f1, f2], 1)
    c, b = score.linear.weight[0], score.linear.bias
    expected = 0.5 * torch.einsum('ni,ij,nj->n', z, M, z) + z @ c + b
    assert torch.allclose(score(f1, f2), expected, atol=1e-4)
    with torch.no_grad():
        score.linear.weight.zero_()
    assert torch.allclose(score(f1, f2), score(f2, f1), atol=1e-5)  # c = 0: symmetric in (f1, f2)


def test_score_geometry_is_radial_around_the_centre():
    torch.manual_seed(0)
    score = QuadraticScore(4)
    centre = torch.randn(1, 4)
    # default init (L_B = L_A, c = b = 0): a Mahalanobis distance, minimal (0) at the centre itself, not at -centre
    assert torch.allclose(score(centre, centre), torch.zeros(1), atol=1e-5)
    near, far = centre + 0.1 * torch.randn(50, 4), centre + 3.0 * torch.randn(50, 4)
    h_near, h_far = score(near, centre.expand(50, 4)), score(far, centre.expand(50, 4))
    assert (h_near >= -1e-6).all() and h_near.mean() < h_far.mean()
    assert score(-centre, centre) > score(centre, centre) + 1e-3
    # L_A = L_B = I, b = -2: H = ½‖f − C‖² − 2, negative inside the radius 2 ball, positive outside
    _set_identity_score(score, -2.0)
    direction = torch.nn.functional.normalize(torch.randn(1, 4), dim=1)
    radii = torch.tensor([[0.0], [1.0], [1.9], [2.1], [4.0]])
    h = score(centre + radii * direction, centre.expand(5, 4))
    assert torch.allclose(h, 0.5 * radii[:, 0] ** 2 - 2.0, atol=1e-5)
    assert (h[:3] < 0).all() and (h[3:] > 0).all()


def test_outside_query_is_pulled_in_and_inside_reference_is_pushed_out():
    loss = RadialMetricLoss(embed_dim=3)
    _set_identity_score(loss.score, -2.0)       # threshold radius 2; with margin 1 the inside region is H <= -1
    centre = torch.zeros(1, 3)
    query = torch.tensor([[3.0, 0.0, 0.0]], requires_grad=True)      # H = 4.5 - 2 = 2.5 > -1: outside
    ref = torch.tensor([[0.0, 0.5, 0.0]], requires_grad=True)        # H = 0.125 - 2 < 1: inside
    pull, push = loss.hinge_terms(query, ref, centre)
    assert pull.item() > 0 and push.item() > 0
    (pull + push).sum().backward()
    with torch.no_grad():
        h_q0, h_r0 = loss.score(query, centre).item(), loss.score(ref, centre).item()
        q1, r1 = query - 0.1 * query.grad, ref - 0.1 * ref.grad     # one SGD step on the embeddings
        assert loss.score(q1, centre).item() < h_q0                   # query moved towards the centre
        assert loss.score(r1, centre).item() > h_r0                   # reference moved away from it
        assert q1.norm() < query.norm() and r1.norm() > ref.norm()


def test_zero_loss_when_queries_deep_inside_and_references_far_outside():
    loss = RadialMetricLoss(embed_dim=2)
    _set_identity_score(loss.score, -5.0)
    centres = torch.tensor([[0.0, 0.0], [20.0, 0.0]])
    labels = torch.tensor([0, 0, 1, 1, 1])
    queries = centres[labels] + 0.1 * torch.randn(5, 2)
    refs = centres[labels] + torch.tensor([[0.0, 10.0]])
    out = loss(queries, labels, refs)
    assert out.item() == 0.0
    assert loss(queries, labels, centres[labels]).item() > 0       # references at the centres do cost


def test_loss_value_matches_eq8_with_batch_centres_and_ignored_reference_labels():
    torch.manual_seed(0)
    labels = torch.tensor([0, 1, 1, 2, 2, 2])
    emb, refs = torch.randn(6, 4), torch.randn(6, 4)
    loss = RadialMetricLoss(embed_dim=4, margin=0.5, reduction='none', ignore_ref_labels=(1, ))
    centres = torch.stack([emb[labels == y].mean(0) for y in labels])
    assert torch.allclose(class_centers(emb, labels), centres, atol=1e-6)
    h_q, h_r = loss.score(emb, centres), loss.score(refs, centres)
    expected = torch.relu(0.5 + h_q) + torch.relu(0.5 - h_r) * (labels != 1)
    assert torch.allclose(loss(emb, labels, refs), expected, atol=1e-5)
    mean = RadialMetricLoss(embed_dim=4, margin=0.5, ignore_ref_labels=(1, ), loss_weight=2.0)
    mean.load_state_dict(loss.state_dict())
    assert torch.allclose(mean(emb, labels, refs), 2.0 * expected.mean(), atol=1e-5)


def test_exactly_2k_score_evaluations_per_batch():
    loss = RadialMetricLoss(embed_dim=8)
    calls = []
    loss.score.register_forward_hook(lambda m, args, out: calls.append(args[0].shape[0]))
    k = 13
    loss(torch.randn(k, 8), torch.randint(0, 4, (k, )), torch.randn(k, 8))
    assert calls == [2 * k]


def _random_loss(detach: bool) -> RadialMetricLoss:
    torch.manual_seed(1)
    loss = RadialMetricLoss(embed_dim=6, rank=2, detach_centers=detach)
    with torch.no_grad():
        for p in loss.parameters():
            p.copy_(torch.randn_like(p))
    return loss


def test_detach_centers_switch_and_finite_gradients():
    torch.manual_seed(0)
    labels = torch.tensor([0, 0, 1, 1])
    emb = (100 * torch.randn(4, 6)).requires_grad_()
    refs = (emb + torch.randn(4, 6)).detach().requires_grad_()       # references near their queries: active pushes
    grads = {}
    for detach in (True, False):
        loss = _random_loss(detach)
        loss(emb, labels, refs).backward()
        assert torch.isfinite(emb.grad).all() and torch.isfinite(refs.grad).all()
        assert all(torch.isfinite(p.grad).all() for p in loss.parameters())
        grads[detach] = emb.grad.clone()
        emb.grad = refs.grad = None
    # the same loss value, but the differentiable centres add the gradient through the class means
    assert not torch.allclose(grads[True], grads[False])
    loss = _random_loss(True)
    pull, push = loss.hinge_terms(emb, refs, class_centers(emb, labels).detach())
    (pull + push).mean().backward()
    assert torch.allclose(emb.grad, grads[True])


def test_radial_loss_errors_and_registry():
    loss = LOSSES.build(dict(type='RadialMetricLoss', embed_dim=4))
    assert loss.needs_reference and loss.loss_name == 'loss_metric'
    with pytest.raises(ValueError, match='with_neutral=True'):
        loss(torch.randn(3, 4), torch.tensor([0, 1, 1]))
    with pytest.raises(ValueError, match=r'\[K, 4\]'):
        loss(torch.randn(3, 5), torch.tensor([0, 1, 1]), torch.randn(3, 5))
    with pytest.raises(ValueError, match='labels'):
        loss(torch.randn(3, 4), torch.tensor([0, 1]), torch.randn(3, 4))
    with pytest.raises(ValueError, match='margin'):
        RadialMetricLoss(embed_dim=4, margin=-1)


def test_pml_wrapper_matches_pytorch_metric_learning_and_ignores_references():
    torch.manual_seed(0)
    emb, labels = torch.randn(12, 8), torch.arange(12) % 3
    triplet = PMLMetricLoss(loss=dict(type='TripletMarginLoss', margin=0.2, triplets_per_anchor='all'))
    ref_loss = pml_losses.TripletMarginLoss(margin=0.2, triplets_per_anchor='all')
    assert torch.allclose(triplet(emb, labels), ref_loss(emb, labels))
    assert torch.allclose(triplet(emb, labels, torch.randn(12, 8)), ref_loss(emb, labels))
    mined = LOSSES.build(dict(type='PMLMetricLoss', loss=dict(type='TripletMarginLoss', margin=0.2),
                              miner=dict(type='TripletMarginMiner', margin=0.2, type_of_triplets='semihard'),
                              loss_weight=0.5))
    tuples = pml_miners.TripletMarginMiner(margin=0.2, type_of_triplets='semihard')(emb, labels)
    assert torch.allclose(mined(emb, labels), 0.5 * pml_losses.TripletMarginLoss(margin=0.2)(emb, labels, tuples))
    contrastive = PMLMetricLoss(loss=dict(type='ContrastiveLoss', pos_margin=0.0, neg_margin=1.0,
                                          distance=dict(type='CosineSimilarity')))
    assert type(contrastive.pml_loss.distance).__name__ == 'CosineSimilarity'
    x = emb.clone().requires_grad_()
    contrastive(x, labels).backward()
    assert torch.isfinite(x.grad).all() and x.grad.abs().sum() > 0
    assert not PMLMetricLoss.needs_reference and contrastive.loss_name == 'loss_metric'


def test_pml_wrapper_errors():
    with pytest.raises(ValueError, match="no 'CenterLoss'.*TripletMarginLoss"):
        PMLMetricLoss(loss=dict(type='CenterLoss'))
    with pytest.raises(ValueError, match='miners has no'):
        PMLMetricLoss(loss=dict(type='TripletMarginLoss'), miner=dict(type='Nope'))
    with pytest.raises(ValueError, match='"type"'):
        PMLMetricLoss(loss='TripletMarginLoss')
    loss = PMLMetricLoss(loss=dict(type='TripletMarginLoss'))
    with pytest.raises(ValueError, match='labels'):
        loss(torch.randn(4, 3), torch.tensor([0, 1]))


def test_center_loss_closed_form_and_optimiser_update():
    torch.manual_seed(0)
    loss = LOSSES.build(dict(type='CenterLoss', num_classes=3, embed_dim=4, reduction='none'))
    with torch.no_grad():
        loss.centers.copy_(torch.randn(3, 4))
    emb, labels = torch.randn(6, 4), torch.tensor([0, 0, 1, 1, 2, 2])
    unit = torch.nn.functional.normalize(emb, dim=1)
    assert torch.allclose(loss(emb, labels), 0.5 * ((unit - loss.centers[labels]) ** 2).sum(1), atol=1e-6)
    raw = CenterLoss(num_classes=3, embed_dim=4, normalize=False)
    assert torch.allclose(raw(emb, labels), 0.5 * (emb ** 2).sum(1).mean(), atol=1e-6)  # centres start at 0
    opt = torch.optim.SGD(raw.parameters(), lr=1.0)
    for _ in range(200):
        opt.zero_grad()
        raw(emb, labels).backward()
        opt.step()
    means = torch.stack([emb[labels == y].mean(0) for y in range(3)])
    assert torch.allclose(raw.centers, means, atol=1e-3)              # the centres converge to the class means
    with pytest.raises(ValueError, match='num_classes=3'):
        raw(emb, torch.tensor([0, 0, 1, 1, 2, 3]))


def test_normalize_makes_the_radial_loss_scale_invariant():
    torch.manual_seed(0)
    emb, refs, labels = torch.randn(6, 4), torch.randn(6, 4), torch.tensor([0, 0, 1, 1, 2, 2])
    loss = RadialMetricLoss(embed_dim=4, normalize=True)
    with torch.no_grad():
        loss.score.linear.bias.fill_(-0.5)
    assert torch.allclose(loss(emb, labels, refs), loss(3 * emb, labels, 0.5 * refs), atol=1e-6)
    raw = RadialMetricLoss(embed_dim=4)
    raw.load_state_dict(loss.state_dict())
    assert not torch.allclose(raw(emb, labels, refs), raw(3 * emb, labels, 0.5 * refs))
