"""cnnlib.classroom.checks: the messages every assignment test gives a student."""

import pytest
import torch
from torch import nn

from cnnlib.classroom.checks import (
    check_callable,
    check_equal,
    check_number,
    check_shape,
    check_tensor,
    check_test_accuracy,
    check_trained_classifier,
    fresh_generator,
)
from cnnlib.models.lenet import lenet


def test_check_tensor_names_shape_element_difference_and_seed():
    expected = torch.arange(6.0).reshape(2, 3)
    check_tensor(expected.clone(), expected, "Y")
    wrong_shape = r"Y has the wrong shape: expected \(2, 3\), got \(3, 2\)"
    with pytest.raises(AssertionError, match=wrong_shape):
        check_tensor(expected.reshape(3, 2), expected, "Y")
    got = expected.clone()
    got[1, 2] += 0.5
    with pytest.raises(AssertionError, match=r"Y\[1, 2\] differs: expected 5.0000, got 5.5000 "
                                             r"\(\|diff\| 0.5\); 1 of 6 elements are off"):
        check_tensor(got, expected, "Y")
    gen = fresh_generator()
    with pytest.raises(AssertionError, match=f"seed {gen.initial_seed()}"):
        check_tensor(got, expected, "Y", gen=gen)
    got[0, 0] = float("nan")
    with pytest.raises(AssertionError, match=r"Y\[0, 0\] is nan"):
        check_tensor(got, expected, "Y")
    with pytest.raises(AssertionError, match="should be a torch.Tensor .* got NoneType"):
        check_tensor(None, expected, "Y")


def test_plain_value_checks():
    check_equal((4, 4), (4, 4), "shape")
    with pytest.raises(AssertionError, match=r"shape: expected \(4, 4\), got \(5, 4\)"):
        check_equal((5, 4), (4, 4), "shape")
    with pytest.raises(AssertionError, match="not computed yet"):
        check_equal(..., 3, "n")
    check_number(torch.tensor(2.0), 2.0, "x")
    with pytest.raises(AssertionError, match="x: expected 2, got 2.5"):
        check_number(2.5, 2.0, "x")
    with pytest.raises(AssertionError, match="should be a number"):
        check_number("2", 2.0, "x")
    with pytest.raises(AssertionError, match="f is not defined yet"):
        check_callable(None, "f")
    with pytest.raises(AssertionError, match="f should be a function"):
        check_callable(3, "f")
    with pytest.raises(AssertionError, match=r"expected \(1,\), got \(2,\)"):
        check_shape(torch.zeros(2), (1,), "v")


def test_fresh_generators_differ_and_ignore_the_global_seed():
    torch.manual_seed(0)
    a = torch.rand(4, generator=fresh_generator())
    torch.manual_seed(0)
    b = torch.rand(4, generator=fresh_generator())
    assert not torch.equal(a, b)


def test_trained_classifier_checks_type_mode_and_output():
    net = lenet()
    with pytest.raises(AssertionError, match="net is still in training mode: call net.eval()"):
        check_trained_classifier(net, "net")
    check_trained_classifier(net.eval(), "net")
    with pytest.raises(AssertionError, match=r"net\(X\) for 5 images has the wrong shape"):
        check_trained_classifier(nn.Sequential(nn.Flatten(), nn.Linear(784, 3)).eval(), "net")
    with pytest.raises(AssertionError, match="should be your trained nn.Module, got NoneType"):
        check_trained_classifier(None, "net")


@pytest.mark.data
def test_accuracy_floor_fails_an_untrained_network_with_the_seed():
    with pytest.raises(AssertionError, match=r"classifies 0\.\d+ of 500 random test images "
                                             r"correctly; at least 0.5 is required \(test images "
                                             r"seed \d+\)"):
        check_test_accuracy(lenet().eval(), "net", floor=0.5, num_images=500)
    check_test_accuracy(lenet().eval(), "net", floor=0.0, num_images=500)


FORM = {"a": bool, "reason": ("A", "B", "C"), "count": range(0, 37), "pair": [int, float]}


def test_check_form_accepts_any_answer_of_the_asked_form():
    from cnnlib.classroom.checks import check_form

    check_form({"a": False, "reason": "C", "count": 0, "pair": [3, 2.5]}, FORM, "q4_answer")
    check_form({"a": True, "reason": "A", "count": 36, "pair": (3, 7)}, FORM, "q4_answer")


@pytest.mark.parametrize("answer, message", [
    (..., "q4_answer is not answered yet"),
    ([], "q4_answer should be a dict, got list"),
    ({"a": True, "reason": "A", "count": 1}, "should have the keys"),
    ({"a": 1, "reason": "A", "count": 1, "pair": (1, 1.0)},
     r"q4_answer\['a'\] should be True or False"),
    ({"a": True, "reason": "a", "count": 1, "pair": (1, 1.0)}, "should be one of 'A', 'B', 'C'"),
    ({"a": True, "reason": "A", "count": 37, "pair": (1, 1.0)}, "a whole number from 0 to 36"),
    ({"a": True, "reason": "A", "count": True, "pair": (1, 1.0)}, "a whole number from 0 to 36"),
    ({"a": True, "reason": "A", "count": 2.0, "pair": (1, 1.0)}, "a whole number from 0 to 36"),
    ({"a": True, "reason": "A", "count": 1, "pair": (1.5, 1.0)},
     r"\['pair'\]\[0\] should be a whole"),
    ({"a": True, "reason": "A", "count": 1, "pair": (1, "x")},
     r"\['pair'\]\[1\] should be a number"),
    ({"a": True, "reason": "A", "count": 1, "pair": (1,)}, "should be a tuple of 2 values"),
])
def test_check_form_says_which_part_has_the_wrong_form(answer, message):
    from cnnlib.classroom.checks import check_form

    with pytest.raises(AssertionError, match=message):
        check_form(answer, FORM, "q4_answer")


def test_check_judged_names_the_part_and_never_the_right_value():
    from cnnlib.classroom.checks import check_judged

    check_judged(True, True, "statement a")
    check_judged("B", "B", "the reason")
    check_judged(16.7, 16.7, "the ratio")
    for got, truth in ((1, True), (False, True), ("b", "B"), (16.8, 16.7), (True, 1)):
        with pytest.raises(AssertionError) as error:
            check_judged(got, truth, "statement a")
        assert str(error.value) == "statement a is judged wrongly"
