"""Planted mistakes in exercise 2 (Dense backward): each must score below full marks with its hint in the feedback.

{mistake: ([(text in the instructor's version, what the student wrote instead)], words the feedback must hold)}
"""
MISTAKES = {
    "transposed-dw": ([('self.grads["W"][...] = self.x.T @ dy', 'self.grads["W"][...] = dy.T @ self.x')],
                      "transpose"),
    "mean-for-sum-db": ([('self.grads["b"][...] = dy.sum(axis=0)', 'self.grads["b"][...] = dy.mean(axis=0)')],
                        "batch SUM"),
    "no-batch-sum": ([('self.grads["b"][...] = dy.sum(axis=0)', 'self.grads["b"][...] = dy')],
                     "forgot the batch sum"),
    "rebound-grads": ([('self.grads["W"][...] = self.x.T @ dy', 'self.grads["W"] = self.x.T @ dy'),
                       ('self.grads["b"][...] = dy.sum(axis=0)', 'self.grads["b"] = dy.sum(axis=0)')],
                      "write into it in place"),
    "delegates-to-miniae": ([("        ### BEGIN SOLUTION\n",
                              "        ### BEGIN SOLUTION\n        return Dense.backward(self, dy)\n"),
                             ("from miniae import Autoencoder,", "from miniae import Dense, Autoencoder,")],
                            "calls miniae's Dense"),
}
