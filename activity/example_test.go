package activity_test

import (
	"context"
	"fmt"
	"strings"

	"github.com/endurehq/endure/activity"
)

func ExampleRegister() {
	reg := activity.NewRegistry()
	sayHello := func(ctx context.Context, city string) (string, error) {
		if city == "" {
			return "", fmt.Errorf("no city")
		}
		return "Hello " + city + "!", nil
	}
	if err := activity.Register(reg, "SayHello", sayHello); err != nil {
		panic(err)
	}
	fmt.Println(reg.Names())

	// An activity worker runs the call with the JSON input of the task.
	fn, _ := reg.Lookup("SayHello")
	out, err := fn(context.Background(), []byte(`"Tokyo"`))
	fmt.Println(string(out), err)
	_, err = fn(context.Background(), []byte(`""`))
	fmt.Println(err)
	_, err = fn(context.Background(), []byte(`42`))
	fmt.Println(strings.SplitN(err.Error(), ":", 2)[0])
	// Output:
	// [SayHello]
	// "Hello Tokyo!" <nil>
	// no city
	// activity SayHello
}

func ExampleGetInfo() {
	reg := activity.NewRegistry()
	whoCalls := func(ctx context.Context, _ any) (string, error) {
		info, ok := activity.GetInfo(ctx)
		if !ok {
			return "unknown", nil
		}
		return fmt.Sprintf("%s task #%d, attempt %d", info.InstanceID, info.TaskID, info.Attempt), nil
	}
	if err := activity.Register(reg, "WhoCalls", whoCalls); err != nil {
		panic(err)
	}
	fn, _ := reg.Lookup("WhoCalls")
	ctx := activity.WithInfo(context.Background(), activity.Info{InstanceID: "order-42", Name: "WhoCalls", TaskID: 3, Attempt: 1})
	out, _ := fn(ctx, nil)
	fmt.Println(string(out))
	// Output:
	// "order-42 task #3, attempt 1"
}
