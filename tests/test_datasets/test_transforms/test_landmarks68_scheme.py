"""iBUG-68 scheme: flip permutation, 49-point subset, mean-shape template."""
import numpy as np
import pytest

from fertools.structures.landmarks68 import (FLIP_PERMUTATION, INNER49_INDICES, LANDMARK_GROUPS, MEAN_SHAPE_68,
                                             flip_landmarks, mean_shape)


def test_flip_permutation_is_an_involution_mapping_eyes_and_fixing_midline():
    perm = FLIP_PERMUTATION
    assert sorted(perm.tolist()) == list(range(68))
    np.testing.assert_array_equal(perm[perm], np.arange(68))
    right, left = LANDMARK_GROUPS['right_eye'], LANDMARK_GROUPS['left_eye']
    assert set(perm[list(right)]) == set(left)
    assert perm[36] == 45 and perm[39] == 42  # outer ↔ outer, inner ↔ inner corners
    assert perm[0] == 16 and perm[48] == 54 and perm[60] == 64
    for mid in (8, 27, 28, 29, 30, 33, 51, 57, 62, 66):
        assert perm[mid] == mid


def test_inner49_drops_jaw_and_inner_mouth_corners():
    assert len(INNER49_INDICES) == 49
    assert not set(range(17)) & set(INNER49_INDICES.tolist())
    assert 60 not in INNER49_INDICES and 64 not in INNER49_INDICES
    assert {61, 62, 63, 65, 66, 67} <= set(INNER49_INDICES.tolist())


def test_mean_shape_is_mirror_symmetric_and_anatomically_ordered():
    s = MEAN_SHAPE_68
    mirrored = s[FLIP_PERMUTATION].copy()
    mirrored[:, 0] = 1.0 - mirrored[:, 0]
    np.testing.assert_allclose(mirrored, s, atol=1e-6)
    assert s[36, 0] < s[39, 0] < s[42, 0] < s[45, 0]  # eyes left → right in the image
    assert s[19, 1] < s[37, 1] < s[30, 1] < s[51, 1] < s[57, 1] < s[8, 1]  # brow, eye, nose, lips, chin
    assert s.min() >= 0 and s.max() <= 1


def test_mean_shape_placement_and_flip_roundtrip():
    t = mean_shape((100, 120), face_fraction=0.5, vertical_offset=0.0)
    width = t[:, 0].max() - t[:, 0].min()
    assert width == pytest.approx(50, abs=1e-3)
    assert (t[:, 0].max() + t[:, 0].min()) / 2 == pytest.approx(49.5, abs=1e-3)  # centred (pixel centres)
    np.testing.assert_allclose(flip_landmarks(flip_landmarks(t, 100), 100), t, atol=1e-4)
    # the mean face is symmetric, so flipping it in a centred placement gives it back
    np.testing.assert_allclose(flip_landmarks(t, 100), t, atol=1e-4)
    with pytest.raises(ValueError, match='68 points'):
        flip_landmarks(t[:49], 100)
