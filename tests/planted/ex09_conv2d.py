"""Planted mistakes in exercise 9 (Conv2D backward): each must score below full marks with its hint in the feedback.

{mistake: ([(text in the instructor's version, what the student wrote instead)], words the feedback must hold)}
"""
MISTAKES = {
    "conv-dw-transposed": ([("(dy_mat.T @ self.cols).reshape", "(self.cols.T @ dy_mat).reshape")], "dW transposed"),
    "conv-db-no-position-sum": ([('self.grads["b"][...] = dy.sum(axis=(0, 2, 3))',
                                  'self.grads["b"][...] = dy.sum(axis=0)')],
                                "db is not summed over the positions"),
    "conv-db-averaged": ([('self.grads["b"][...] = dy.sum(axis=(0, 2, 3))',
                           'self.grads["b"][...] = dy.mean(axis=(0, 2, 3))')],
                         "db is averaged over the batch and the positions"),
    "conv-db-position-mean": ([('self.grads["b"][...] = dy.sum(axis=(0, 2, 3))',
                                'self.grads["b"][...] = dy.mean(axis=(2, 3)).sum(axis=0)')],
                              "db is averaged over the positions"),
    "conv-rows-out-of-order": ([("dy_mat = dy.transpose(0, 2, 3, 1).reshape(-1, self.out_channels)",
                                 "dy_mat = dy.reshape(-1, self.out_channels)")],
                               "not in the order of cols' rows"),
    "conv-no-col2im": ([("dxp = col2im(dy_mat @ W_mat, self.padded_shape, self.kernel_size, self.stride)",
                         "return dy_mat @ W_mat")],
                       "that is the gradient of cols"),
    "conv-padding-kept": ([("return dxp[:, :, ph:ph + h, pw:pw + w]", "return dxp")], "cut the padding off"),
    "conv-rebound-grads": ([('self.grads["W"][...] = (dy_mat.T', 'self.grads["W"] = (dy_mat.T'),
                            ('self.grads["b"][...] = dy.sum', 'self.grads["b"] = dy.sum')],
                           "write into it in place"),
    "delegates-to-miniae": ([("        ### BEGIN SOLUTION\n",
                              "        ### BEGIN SOLUTION\n        return Conv2D.backward(self, dy)\n"),
                             ("from miniae.layers import (\n", "from miniae.layers import (\n    Conv2D,\n")],
                            "calls miniae's Conv2D"),
}
