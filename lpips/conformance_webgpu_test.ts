import { conformanceTest } from "./_conformance.ts";

// Every lpips case of reference/cases.json on the webgpu backend, within 1e-4 absolute.
conformanceTest("webgpu", 1e-4);
