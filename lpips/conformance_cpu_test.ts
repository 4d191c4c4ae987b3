import { conformanceTest } from "./_conformance.ts";

// Every lpips case of reference/cases.json on the cpu backend, within 1e-5 absolute.
conformanceTest("cpu", 1e-5);
