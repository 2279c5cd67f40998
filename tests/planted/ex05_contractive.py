"""Planted mistakes in exercise 5 (the contractive penalty's gradient): each must score below full marks with its
hint in the feedback.

{mistake: ([(text in the instructor's version, what the student wrote instead)], words the feedback must hold)}
"""
MISTAKES = {
    "no-direct-term": ([('        dense.grads["W"] += 2 * scale * W * np.sum(slope ** 2, axis=0)\n', "")],
                       "the direct route through w_j is missing"),
    "no-route-through-z": ([('        dense.grads["W"] += x.T @ grad_z\n', "")],
                           "the route through z is missing"),
    "z-route-no-factor-2": ([("grad_z = 2 * scale * slope ** 2", "grad_z = scale * slope ** 2")],
                            "the route through z lost the factor 2"),
    "direct-no-factor-2": ([('dense.grads["W"] += 2 * scale * W', 'dense.grads["W"] += scale * W')],
                           "the direct route lost the factor 2"),
    "no-one-minus-2h": ([("slope ** 2 * (1 - 2 * h) * col_norms", "slope ** 2 * col_norms")],
                        "the factor (1 - 2h) is missing"),
    "a-not-squared": ([("slope ** 2 * (1 - 2 * h) * col_norms", "slope * (1 - 2 * h) * col_norms")],
                      "needs a^2"),
    "no-one-over-n": ([("scale = self.lam / x.shape[0]", "scale = self.lam")], "missing 1/N"),
    "replaces-grads": ([('dense.grads["W"] += 2 * scale * W', 'dense.grads["W"] = 2 * scale * W')],
                       "instead of adding to it"),
    "delegates-to-miniae": ([("        ### BEGIN SOLUTION\n",
                              "        ### BEGIN SOLUTION\n        Contractive.forward(self, model, x)\n"
                              "        return Contractive.backward(self, model)\n"),
                             ("from miniae import Penalty, gradcheck",
                              "from miniae import Contractive, Penalty, gradcheck")],
                            "calls miniae's Contractive"),
}
