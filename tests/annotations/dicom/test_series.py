"""Slice ordering and geometry checks of one CT series (pure: no Django, no files)."""

import math
import random
from collections.abc import Sequence
from dataclasses import replace

import pytest

from annotations.dicom.errors import GeometryError
from annotations.dicom.series import InstanceGeometry, OrderedSeries, order_series

AXIAL = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0)
SAGITTAL = (0.0, 1.0, 0.0, 0.0, 0.0, -1.0)
CORONAL = (1.0, 0.0, 0.0, 0.0, 0.0, -1.0)


def tilted(degrees: float) -> tuple[float, ...]:
    """Axial orientation rotated about the patient x axis (gantry tilt)."""
    t = math.radians(degrees)
    return (1.0, 0.0, 0.0, 0.0, math.cos(t), math.sin(t))


def stack(
    z_mm: Sequence[float],
    *,
    orientation: tuple[float, ...] = AXIAL,
    numbers: Sequence[int] | None = None,
    thickness: float | None = 5.0,
) -> list[InstanceGeometry]:
    """One instance per z (table position), keyed ``s<index>`` in the order given."""
    return [
        InstanceGeometry(
            key=f"s{index}",
            image_position=(-125.0, -140.0, float(z)),
            image_orientation=orientation,
            pixel_spacing=(0.488, 0.488),
            rows=512,
            columns=512,
            slice_thickness=thickness,
            instance_number=None if numbers is None else numbers[index],
        )
        for index, z in enumerate(z_mm)
    ]


def codes(series: OrderedSeries) -> list[str]:
    return [finding.code for finding in series.findings]


def refusal(instances: Sequence[InstanceGeometry], **options: float) -> str:
    with pytest.raises(GeometryError) as caught:
        order_series(instances, **options)
    return str(caught.value)


# --- ordering -----------------------------------------------------------------------------


def test_shuffled_input_comes_out_in_position_order():
    z = [10.0 + 5.0 * i for i in range(40)]
    instances = stack(z)
    shuffled = instances[:]
    random.Random(7).shuffle(shuffled)

    series = order_series(shuffled)

    assert series.keys == [f"s{i}" for i in range(40)]
    assert series.positions_mm == pytest.approx(z)
    assert series.normal == pytest.approx((0.0, 0.0, 1.0))
    assert series.spacing_mm == pytest.approx(5.0)
    assert series.findings == []


def test_superior_to_inferior_input_is_ordered_inferior_to_superior():
    z = [200.0 - 2.5 * i for i in range(30)]

    series = order_series(stack(z))

    assert series.keys == [f"s{i}" for i in reversed(range(30))]
    assert series.positions_mm == pytest.approx(sorted(z))
    assert series.spacing_mm == pytest.approx(2.5)


def test_negative_z_positions():
    z = [-300.0 + 5.0 * i for i in range(20)]
    instances = stack(z)[::-1]

    series = order_series(instances)

    assert series.positions_mm == pytest.approx(z)
    assert series.positions_mm[0] == pytest.approx(-300.0)
    assert series.keys[0] == "s0"
    assert series.findings == []


def test_positions_straddling_zero():
    z = [-10.0, 5.0, 0.0, -5.0, 10.0]

    series = order_series(stack(z))

    assert series.positions_mm == pytest.approx([-10.0, -5.0, 0.0, 5.0, 10.0])
    assert series.keys == ["s0", "s3", "s2", "s1", "s4"]


def test_descending_instance_numbers_do_not_change_the_order():
    # Many scanners number head CT from the vertex down: consistent, so no finding.
    z = [5.0 * i for i in range(10)]
    instances = stack(z, numbers=list(range(10, 0, -1)))
    random.Random(1).shuffle(instances)

    series = order_series(instances)

    assert series.keys == [f"s{i}" for i in range(10)]
    assert "instance_order_differs" not in codes(series)


def test_ascending_instance_numbers_give_no_finding():
    series = order_series(stack([5.0 * i for i in range(10)], numbers=list(range(1, 11))))

    assert "instance_order_differs" not in codes(series)


def test_shuffled_instance_numbers_do_not_change_the_order_and_are_reported():
    z = [5.0 * i for i in range(10)]
    numbers = [3, 1, 2, 4, 5, 6, 7, 8, 10, 9]
    instances = stack(z, numbers=numbers)

    series = order_series(instances[::-1])

    assert series.keys == [f"s{i}" for i in range(10)]
    assert codes(series) == ["instance_order_differs"]
    message = series.findings[0].message
    assert "instance 3 at 0.00 mm is followed by instance 1 at 5.00 mm" in message
    assert "ImagePositionPatient" in message


def test_instance_numbers_reversed_against_position_do_not_change_the_order():
    z = [5.0 * i for i in range(10)]
    by_number = order_series(stack(z, numbers=list(range(1, 11))))
    reversed_numbers = order_series(stack(z, numbers=list(range(1, 11))[::-1]))

    assert reversed_numbers.keys == by_number.keys
    assert reversed_numbers.positions_mm == by_number.positions_mm


def test_partly_missing_instance_numbers_are_compared_where_present():
    z = [5.0 * i for i in range(5)]
    instances = [
        replace(instance, instance_number=number)
        for instance, number in zip(stack(z), [1, None, 3, None, 2], strict=True)
    ]

    assert codes(order_series(instances)) == ["instance_order_differs"]


def test_normal_pointing_down_is_turned_to_order_inferior_to_superior():
    # Columns running to the patient's front: row x column = x cross -y = -z.
    instances = stack([10.0, 0.0, 5.0], orientation=(1.0, 0.0, 0.0, 0.0, -1.0, 0.0))

    series = order_series(instances)

    assert series.normal == pytest.approx((0.0, 0.0, 1.0))
    assert series.keys == ["s1", "s2", "s0"]
    assert series.positions_mm == pytest.approx([0.0, 5.0, 10.0])
    assert series.findings == []


# --- gantry tilt and non-axial series -----------------------------------------------------


def test_tilted_gantry_with_table_moving_along_z_is_ordered_and_flagged():
    z = [50.0 + 5.0 * i for i in range(40)]
    instances = stack(z, orientation=tilted(15.0))
    random.Random(3).shuffle(instances)

    series = order_series(instances)

    cos15 = math.cos(math.radians(15.0))
    assert series.keys == [f"s{i}" for i in range(40)]
    assert series.normal == pytest.approx((0.0, -math.sin(math.radians(15.0)), cos15))
    assert series.spacing_mm == pytest.approx(5.0 * cos15)
    assert codes(series) == ["tilted"]
    assert "15.0 deg" in series.findings[0].message


def test_tilted_gantry_with_positions_along_the_normal_is_accepted():
    t = math.radians(15.0)
    normal = (0.0, -math.sin(t), math.cos(t))
    instances = [
        InstanceGeometry(
            key=f"s{i}",
            image_position=(-125.0, -140.0 + 3.0 * i * normal[1], 3.0 * i * normal[2]),
            image_orientation=tilted(15.0),
            pixel_spacing=(0.5, 0.5),
            rows=512,
            columns=512,
        )
        for i in range(30)
    ]

    series = order_series(instances[::-1])

    assert series.keys == [f"s{i}" for i in range(30)]
    assert series.spacing_mm == pytest.approx(3.0)
    assert codes(series) == ["tilted"]


def test_tiny_tilt_is_not_reported():
    series = order_series(stack([5.0 * i for i in range(10)], orientation=tilted(0.3)))

    assert series.findings == []


def test_tilt_over_the_limit_is_refused():
    message = refusal(stack([5.0 * i for i in range(10)], orientation=tilted(40.0)))

    assert "not axial" in message
    assert "40.0 deg" in message
    assert "limit 30 deg" in message


def test_tilt_limit_is_an_option():
    instances = stack([5.0 * i for i in range(10)], orientation=tilted(20.0))

    assert "limit 15 deg" in refusal(instances, max_tilt_deg=15.0)
    assert codes(order_series(instances)) == ["tilted"]


def test_sagittal_series_is_refused():
    instances = [
        replace(instance, image_position=(float(x), -140.0, 100.0))
        for instance, x in zip(
            stack([0.0] * 10, orientation=SAGITTAL), range(-20, 20, 4), strict=True
        )
    ]

    message = refusal(instances)

    assert "sagittal" in message
    assert "90.0 deg" in message


def test_coronal_series_is_refused():
    message = refusal(stack([5.0 * i for i in range(10)], orientation=CORONAL))

    assert "coronal" in message


# --- refusals -----------------------------------------------------------------------------


def test_empty_series_is_refused():
    assert "no instances" in refusal([])


@pytest.mark.parametrize(
    ("field", "name"),
    [
        ("image_position", "ImagePositionPatient"),
        ("image_orientation", "ImageOrientationPatient"),
        ("pixel_spacing", "PixelSpacing"),
    ],
)
def test_missing_geometry_is_refused(field, name):
    instances = stack([5.0 * i for i in range(10)])
    instances[2] = replace(instances[2], **{field: None})
    instances[7] = replace(instances[7], **{field: None})

    message = refusal(instances)

    assert f"missing {name} on 2 of 10 instances" in message
    assert "s2, s7" in message


def test_all_missing_attributes_are_reported_together():
    instances = stack([5.0 * i for i in range(4)])
    instances[0] = replace(instances[0], image_position=None)
    instances = [replace(instance, pixel_spacing=None) for instance in instances]

    message = refusal(instances)

    assert "missing ImagePositionPatient on 1 of 4 instances" in message
    assert "missing PixelSpacing on 4 of 4 instances" in message


def test_orientation_with_wrong_value_count_is_refused():
    instances = stack([0.0, 5.0])
    instances[1] = replace(instances[1], image_orientation=(1.0, 0.0, 0.0, 0.0, 1.0))

    assert "ImageOrientationPatient without 6 values on 1 of 2 instances" in refusal(instances)


def test_non_finite_position_is_refused():
    instances = stack([0.0, 5.0, 10.0])
    instances[1] = replace(instances[1], image_position=(0.0, 0.0, math.nan))

    assert "ImagePositionPatient is not a finite number on 1 of 3 instances" in refusal(instances)


def test_direction_cosines_not_unit_length_are_refused():
    instances = stack([5.0 * i for i in range(5)], orientation=(1.0, 0.0, 0.0, 0.0, 0.9, 0.0))

    message = refusal(instances)

    assert "not unit vectors" in message
    assert "length 0.9000" in message
    assert "on 5 of 5 instances" in message


def test_non_orthogonal_direction_cosines_are_refused():
    t = math.radians(5.0)
    skewed = (1.0, 0.0, 0.0, math.sin(t), math.cos(t), 0.0)

    message = refusal(stack([5.0 * i for i in range(5)], orientation=skewed))

    assert "not orthogonal" in message
    assert "85.00 deg apart" in message


def test_mixed_orientations_are_refused_with_their_count():
    instances = stack([5.0 * i for i in range(10)])
    instances[8] = replace(instances[8], image_orientation=tilted(10.0))
    instances[9] = replace(instances[9], image_orientation=tilted(10.0))
    instances[0] = replace(instances[0], image_orientation=tilted(20.0))

    message = refusal(instances)

    assert "3 distinct ImageOrientationPatient values" in message
    assert message.index("7 x [1.000, 0.000") < message.index("2 x [") < message.index("1 x [")


def test_orientation_rounding_is_not_a_mixed_orientation():
    instances = stack([5.0 * i for i in range(10)])
    instances[4] = replace(instances[4], image_orientation=(1.0, 0.0, 0.0, 0.0, 0.999999, 1e-4))

    assert order_series(instances).findings == []


def test_mixed_image_size_is_refused():
    instances = stack([5.0 * i for i in range(10)])
    instances[3] = replace(instances[3], rows=256, columns=256)

    message = refusal(instances)

    assert "differ in image size" in message
    assert "512x512 (9 instances)" in message
    assert "256x256 (1 instance)" in message


def test_mixed_pixel_spacing_is_refused():
    instances = stack([5.0 * i for i in range(10)])
    instances[5] = replace(instances[5], pixel_spacing=(0.7, 0.7))

    message = refusal(instances)

    assert "differ in PixelSpacing" in message
    assert "0.488 x 0.488 mm (9 instances)" in message
    assert "0.7 x 0.7 mm (1 instance)" in message


def test_non_positive_pixel_spacing_is_refused():
    instances = stack([0.0, 5.0])
    instances[0] = replace(instances[0], pixel_spacing=(0.0, 0.5))

    assert "PixelSpacing is not positive on 1 of 2 instances" in refusal(instances)


def test_duplicate_positions_are_refused_with_positions_and_count():
    z = [5.0 * i for i in range(10)] + [15.0, 30.004]

    message = refusal(stack(z))

    assert "4 instances share 2 slice positions (15.00 mm, 30.00 mm)" in message
    assert "mixes two acquisitions" in message


def test_three_instances_at_one_position_count_once():
    z = [0.0, 5.0, 5.0, 5.0, 10.0]

    assert "3 instances share 1 slice position (5.00 mm)" in refusal(stack(z))


def test_slices_not_on_one_axis_are_refused():
    instances = stack([5.0 * i for i in range(10)])
    instances[6] = replace(instances[6], image_position=(-125.0 + 8.0, -140.0, 30.0))

    message = refusal(instances)

    assert "not stacked on one axis" in message
    assert "1 of 10 instances lie up to 8.0 mm off" in message
    assert "s6" in message


def test_sub_millimetre_in_plane_jitter_is_accepted():
    instances = [
        replace(instance, image_position=(-125.0 + 0.3 * (i % 2), -140.0, 5.0 * i))
        for i, instance in enumerate(stack([0.0] * 10))
    ]

    assert order_series(instances).findings == []


def test_drift_that_does_not_match_the_tilt_is_refused():
    # Positions drift sideways (along x) though the tilt is about x: not a gantry shear.
    instances = [
        replace(instance, image_position=(-125.0 + 2.0 * i, -140.0, 5.0 * i))
        for i, instance in enumerate(stack([0.0] * 10, orientation=tilted(15.0)))
    ]

    assert "not stacked on one axis" in refusal(instances)


# --- findings -----------------------------------------------------------------------------


def test_gap_is_reported_with_its_positions_and_size():
    z = [5.0 * i for i in range(10)] + [5.0 * i for i in range(12, 20)]

    series = order_series(stack(z))

    assert codes(series) == ["gap"]
    message = series.findings[0].message
    assert "Gap of 15.00 mm between the slices at 45.00 mm and 60.00 mm" in message
    assert "median spacing 5.00 mm" in message
    assert "about 2 slices missing" in message
    assert series.spacing_mm == pytest.approx(5.0)


def test_each_gap_is_reported():
    z = [0.0, 5.0, 10.0, 20.0, 25.0, 30.0, 35.0, 45.0, 50.0]

    series = order_series(stack(z))

    assert [f.message.split(" mm between")[0] for f in series.findings] == [
        "Gap of 10.00",
        "Gap of 10.00",
    ]
    assert "about 1 slice missing" in series.findings[0].message


def test_irregular_spacing_is_reported_with_its_numbers():
    z = [0.0, 5.0, 10.0, 15.0, 21.0, 26.0, 31.0, 35.2, 40.2, 45.2]

    series = order_series(stack(z))

    assert codes(series) == ["irregular_spacing"]
    message = series.findings[0].message
    assert "2 of 9 steps differ from the median 5.00 mm by more than 10%" in message
    assert "steps from 4.20 to 6.00 mm" in message


def test_spacing_within_ten_percent_is_regular():
    z = [0.0, 5.0, 10.2, 15.0, 19.8, 25.0]

    assert order_series(stack(z)).findings == []


def test_mixed_slice_thickness_is_reported():
    instances = stack([5.0 * i for i in range(6)])
    instances[0] = replace(instances[0], slice_thickness=2.5)
    instances[1] = replace(instances[1], slice_thickness=None)

    series = order_series(instances)

    assert codes(series) == ["mixed_thickness"]
    assert "2.5 mm (1 instance), 5 mm (4 instances)" in series.findings[0].message


def test_single_slice_is_reported():
    series = order_series(stack([42.0], numbers=[1]))

    assert series.keys == ["s0"]
    assert series.positions_mm == pytest.approx([42.0])
    assert series.spacing_mm is None
    assert codes(series) == ["single_slice"]


def test_single_sagittal_slice_is_still_refused():
    assert "sagittal" in refusal(stack([0.0], orientation=SAGITTAL))


def test_two_slices_have_one_spacing():
    series = order_series(stack([7.5, 2.5]))

    assert series.keys == ["s1", "s0"]
    assert series.spacing_mm == pytest.approx(5.0)
    assert series.findings == []


def test_gaps_are_left_out_of_the_irregular_spacing_check():
    z = [0.0, 5.0, 10.0, 15.0, 30.0, 35.0, 40.0, 45.0]

    assert codes(order_series(stack(z))) == ["gap"]


def test_scanner_rounding_gives_no_findings():
    # Thin-slice head CT as a scanner writes it: tilted cosines to 6 decimals, positions to 3.
    t = math.radians(12.0)
    orientation = (1.0, 0.0, 0.0, 0.0, round(math.cos(t), 6), round(math.sin(t), 6))
    instances = [
        InstanceGeometry(
            key=f"s{i}",
            image_position=(-125.0, -140.0, round(-180.0 + 0.625 * i, 3)),
            image_orientation=orientation,
            pixel_spacing=(0.48828125, 0.48828125),
            rows=512,
            columns=512,
            slice_thickness=0.625,
            instance_number=300 - i,
        )
        for i in range(300)
    ]
    random.Random(5).shuffle(instances)

    series = order_series(instances)

    assert series.keys == [f"s{i}" for i in range(300)]
    assert series.spacing_mm == pytest.approx(0.625 * math.cos(t), abs=1e-3)
    assert codes(series) == ["tilted"]
