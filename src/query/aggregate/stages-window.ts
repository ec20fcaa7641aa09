/**
 * Window and gap-filling stages: $setWindowFields, $densify, $fill.
 */
export {};
