"""SynthFace constants: action units, expression prototypes, difficulty presets, colour palettes.

Colours are display-space RGB (and NIR reflectance) in ``[0, 1]``; the renderer squares them into linear
space, shades, and takes the square root again (a gamma-2 camera curve; square root is exact in IEEE
arithmetic, which keeps rendering bit-identical whatever the batch — see :mod:`.generator`).
"""
from fertools.datasets.expressions import ALL_EXPRESSIONS

#: Action-unit-like controls, in the column order of every ``au`` tensor ``[N, NUM_AUS]`` (values 0..1).
AU_NAMES = (
    'inner_brow_raise',   # AU1
    'outer_brow_raise',   # AU2
    'brow_lower',         # AU4 (also draws the brows together)
    'upper_lid_raise',    # AU5 eye widen
    'cheek_raise',        # AU6 (pushes the lower lid up, deepens nasolabial folds)
    'lid_tighten',        # AU7
    'nose_wrinkle',       # AU9
    'upper_lip_raise',    # AU10
    'lip_corner_pull',    # AU12 (both corners up, mouth wider)
    'unilateral_pull',    # AU12+AU14 on one side only (contempt)
    'lip_corner_depress', # AU15
    'lip_stretch',        # AU20
    'lip_press',          # AU23/24
    'jaw_drop',           # AU25/26/27
    'chin_raise',         # AU17
)
NUM_AUS = len(AU_NAMES)
AU = {name: i for i, name in enumerate(AU_NAMES)}

#: EMFACS-like prototypes: expression name → {AU name: activation at full intensity}.
PROTOTYPES = {
    'neutral': {},
    'happiness': dict(cheek_raise=0.8, lip_corner_pull=1.0, jaw_drop=0.3, upper_lip_raise=0.25),
    'sadness': dict(inner_brow_raise=1.0, brow_lower=0.55, lip_corner_depress=0.9, chin_raise=0.6,
                    upper_lid_raise=-0.35),
    'surprise': dict(inner_brow_raise=1.0, outer_brow_raise=1.0, upper_lid_raise=0.9, jaw_drop=0.9),
    'fear': dict(inner_brow_raise=0.9, outer_brow_raise=0.55, brow_lower=0.6, upper_lid_raise=1.0,
                 lid_tighten=0.3, lip_stretch=1.0, jaw_drop=0.45),
    'disgust': dict(nose_wrinkle=1.0, upper_lip_raise=0.85, lip_corner_depress=0.45, chin_raise=0.4,
                    brow_lower=0.45, cheek_raise=0.35, lid_tighten=0.3),
    'anger': dict(brow_lower=1.0, upper_lid_raise=0.45, lid_tighten=0.8, lip_press=0.9, chin_raise=0.35),
    'contempt': dict(unilateral_pull=1.0, lid_tighten=0.15),
}
assert set(PROTOTYPES) == set(ALL_EXPRESSIONS)

#: Difficulty presets. Intensities are ``lo + (hi - lo) * U ** intensity_skew`` for ``intensity = (lo, hi)``
#: and U uniform in (0, 1) (skew < 1: mostly medium–strong with a subtle tail); each prototype AU is scaled by
#: ``1 + au_jitter * N(0, 1)`` and dropped with probability ``au_drop``; every AU also gets
#: ``|N(0, 1)| * idiosyncratic`` (so neutral faces are not all identical); ``resting_bias`` scales each
#: subject's resting face (down-turned mouth, raised or knitted brows, wide or narrow eyes); pose angles are
#: uniform in ``±yaw/pitch/roll`` degrees; ``light_azimuth`` (degrees), ``ambient`` range, ``color_temp``
#: (white-balance swing), ``exposure`` (±gain) and ``noise`` (sensor noise σ in display units) control
#: illumination and capture.
DIFFICULTIES = {
    'easy': dict(intensity=(0.7, 1.0), intensity_skew=1.0, au_jitter=0.08, au_drop=0.0, idiosyncratic=0.02,
                 resting_bias=0.3, yaw=8.0, pitch=5.0, roll=4.0, scale=0.04, shift=0.03, light_azimuth=30.0,
                 ambient=(0.5, 0.7), color_temp=0.05, exposure=0.05, noise=0.01),
    'default': dict(intensity=(0.15, 1.0), intensity_skew=0.6, au_jitter=0.2, au_drop=0.1,
                    idiosyncratic=0.06, resting_bias=0.8, yaw=20.0, pitch=10.0, roll=10.0, scale=0.10, shift=0.06,
                    light_azimuth=70.0, ambient=(0.25, 0.6), color_temp=0.15, exposure=0.15, noise=0.025),
    'hard': dict(intensity=(0.08, 0.7), intensity_skew=1.0, au_jitter=0.35, au_drop=0.25, idiosyncratic=0.1,
                 resting_bias=1.5, yaw=35.0, pitch=18.0, roll=18.0, scale=0.15, shift=0.09, light_azimuth=90.0,
                 ambient=(0.15, 0.55), color_temp=0.25, exposure=0.25, noise=0.04),
}

# Palettes: (R, G, B, NIR). NIR reflectance of skin is high and nearly independent of melanin; hair and
# irises are much lighter in NIR than in VIS; lips and cheek blush almost vanish in NIR.
SKIN_TONES = ((0.96, 0.82, 0.72, 0.80), (0.87, 0.68, 0.55, 0.78), (0.72, 0.52, 0.38, 0.74),
              (0.52, 0.35, 0.24, 0.68), (0.36, 0.23, 0.16, 0.62))
HAIR_COLOURS = ((0.08, 0.07, 0.07, 0.30), (0.22, 0.14, 0.09, 0.40), (0.42, 0.28, 0.16, 0.50),
                (0.80, 0.66, 0.42, 0.66), (0.58, 0.26, 0.12, 0.58), (0.66, 0.65, 0.63, 0.64))
IRIS_COLOURS = ((0.30, 0.17, 0.08, 0.62), (0.18, 0.11, 0.06, 0.55), (0.33, 0.48, 0.64, 0.68),
                (0.38, 0.48, 0.28, 0.65), (0.45, 0.33, 0.17, 0.64))
SCLERA = (0.93, 0.90, 0.86, 0.88)
PUPIL = (0.04, 0.03, 0.03, 0.06)
MOUTH_INSIDE = (0.28, 0.07, 0.07, 0.14)
TEETH = (0.93, 0.91, 0.83, 0.90)
LASH = (0.07, 0.06, 0.06, 0.20)
