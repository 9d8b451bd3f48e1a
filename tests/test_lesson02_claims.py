"""Lesson 02's claims, held against the multi-seed record it reads and, for the scale, one Adam step."""

import torch

from spafit_course.lessons.lora_runs import first_step_change


def test_first_step_shrinks_with_fixed_alpha_grows_with_2r_and_is_flattest_with_sqrt():
    def growth(alpha_of_r):
        return first_step_change(64, alpha_of_r(64)) / first_step_change(1, alpha_of_r(1))

    fixed, doubled, root = growth(lambda r: 16), growth(lambda r: 2 * r), growth(lambda r: 16 * (r / 8) ** 0.5)
    assert fixed < 1 < doubled
    assert doubled > 1 / fixed  # alpha = 2r grows by a larger factor than alpha fixed shrinks
    assert abs(torch.log(torch.tensor(root))) < min(abs(torch.log(torch.tensor(fixed))),
                                                     abs(torch.log(torch.tensor(doubled))))
