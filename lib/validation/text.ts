import { z } from "zod";

/**
 * A single-line text field for machine-sent values (names, ids, paths).
 * Postgres refuses NUL in text and control characters have no business in a
 * name, so they are a 400 naming the field rather than a 500 from the driver.
 */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

export const plainText = (max: number) =>
  z
    .string()
    .min(1)
    .max(max)
    // eslint-disable-next-line no-control-regex -- matching control characters is the point: they are refused or stripped
    .regex(/^[^\u0000-\u001f\u007f]*$/, "must not contain control characters")
    .refine((s) => !LONE_SURROGATE.test(s), "must be well-formed Unicode");
